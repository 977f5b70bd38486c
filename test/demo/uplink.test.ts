import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Demo } from '../../src/demo/demo.js';
import { waitFor } from '../runtime/helpers.js';

// The consumer is the fleet's backend, not behind the gateway's uplink: an outage must not drop it.
// aedes can lose QoS 1 messages of a persistent session whose subscriber reconnects (see UplinkBroker):
// with the consumer cut too, the e2e test lost 14 of 7,651 messages that the broker had acknowledged.
test('demo outage: the gateway loses its uplink, the consumer stays connected', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(os.tmpdir(), 'edgewise-demo-uplink-'));
  const demo = new Demo({ devices: 1, seed: 1, rateHz: 1, spanMs: 60_000, cycles: 1, realTime: false, start: Date.UTC(2026, 0, 5, 8), dataDir: dir, gatewayId: 'gw-uplink', pipelines: 'demo' });
  t.after(async () => {
    await demo.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await demo.start();
  let consumerCloses = 0;
  demo.consumer.client.on('close', () => consumerCloses++);
  const upstream = () => demo.stats().upstream;
  await waitFor(() => upstream()?.state === 'online', 'the gateway online upstream');

  await demo.outage(60_000);
  await waitFor(() => upstream()?.state !== 'online', 'the gateway to see its uplink cut');
  assert.equal(demo.uplink.up, false);
  await demo.endOutage();
  await waitFor(() => upstream()?.state === 'online' && (upstream()?.reconnects ?? 0) >= 1, 'the gateway to reconnect');

  assert.equal(consumerCloses, 0, 'the consumer was never disconnected');
  assert.ok(demo.consumer.connected);
  await demo.runSimulator();
  assert.ok(await demo.drain(30_000), `everything produced arrived upstream (produced ${demo.producedTotal}, received ${demo.consumer.unique})`);
  assert.ok(demo.producedTotal > 0, 'the simulator produced messages after the outage');
  assert.equal(consumerCloses, 0, 'the consumer was never disconnected');
});
