/**
 * The outage test against a real Mosquitto (Debian package `mosquitto`), started by the test with
 * its own config on a free loopback port. Needs the `mosquitto` binary: run with `npm run test:system`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import mqtt from 'mqtt';
import { silentLogger } from '../../src/core/log.js';
import { Outbox } from '../../src/outbox/index.js';
import { UpstreamForwarder } from '../../src/upstream/index.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { freePort } from '../runtime/helpers.js';
import { setImmediate as yieldToIo } from 'node:timers/promises';
import { aggregate, alert, checkSequences, outboxConfig, tempDir, upstreamConfig, waitFor, type Received } from './helpers.js';

describe('upstream forwarder against Mosquitto', () => {
  it('an outage (Mosquitto stopped and restarted) loses nothing: every message arrives, seq gap-free, duplicates share ids', { timeout: 120_000 }, async () => {
    const tmp = tempDir('edgewise-mosq-');
    const port = await freePort();
    const mosq = new Mosquitto(tmp.dir, port);
    await mosq.start();
    const url = `mqtt://127.0.0.1:${port}`;
    const received: Received[] = [];
    const collector = mqtt.connect(url, { clientId: 'collector', clean: false, reconnectPeriod: 100 });
    collector.on('message', (topic, payload, packet) => received.push({ topic, payload: Buffer.from(payload), retain: packet.retain }));
    await new Promise<void>((resolve, reject) => {
      collector.once('connect', () => collector.subscribe('edgewise/v1/#', { qos: 1 }, (err) => (err ? reject(err) : resolve())));
    });
    const outbox = Outbox.open({ config: outboxConfig(), dataDir: tmp.dir, gatewayId: 'gw-m', log: silentLogger() });
    const fwd = new UpstreamForwarder({ config: upstreamConfig(url, { protocol_version: 5 }), outbox, gatewayId: 'gw-m', log: silentLogger() });
    try {
      await fwd.start();
      await waitFor(() => fwd.state() === 'online', 'online');
      let produced = 0;
      const produce = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const k = produced++;
          outbox.put(k % 40 === 0 ? alert(`m${k % 3}/p`, k) : aggregate(`m${k % 4}/p`, k));
          if (k % 100 === 0) await yieldToIo(); // let the forwarder's I/O run between bursts
        }
      };
      await produce(2000);
      await mosq.stop();
      await waitFor(() => fwd.state() !== 'online', 'offline');
      await produce(3000);
      outbox.flush();
      assert.ok(outbox.stats().depth.messages > 0);
      await mosq.start();
      await produce(1000);
      outbox.flush();
      await waitFor(() => outbox.stats().depth.messages === 0, 'drained', 60_000);
      const msgs = () => received.filter((r) => !r.topic.endsWith('/status'));
      await waitFor(() => checkSequences(msgs()).unique === produced, `all ${produced} messages at the collector`, 60_000).catch(() => {});
      const check = checkSequences(msgs());
      assert.deepEqual(check.problems, []);
      assert.equal(check.unique, produced);
      assert.ok(fwd.stats().reconnects >= 1);
    } finally {
      await fwd.stop();
      outbox.close();
      collector.end(true);
      await mosq.stop();
      tmp.cleanup();
    }
  });
});
