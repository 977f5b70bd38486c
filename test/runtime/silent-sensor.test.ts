/**
 * A real gateway (embedded MQTT broker, the gateway's ticks) with a sensor that stops publishing:
 * its `dropout` alert comes while it is silent, without another reading (docs/pipelines.md, time).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseGatewayText } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/log.js';
import type { AlertRecord } from '../../src/core/records.js';
import { Gateway } from '../../src/runtime/gateway.js';
import { tempDir } from '../upstream/helpers.js';
import { freePort, publishAll, waitFor } from './helpers.js';

test('a sensor that stops publishing is reported while silent, by the gateway\'s ticks', async (t) => {
  const { dir, cleanup } = tempDir('edgewise-silent-');
  const port = await freePort();
  writeFileSync(join(dir, 'pumps.yaml'), `
name: pumps
input: { streams: ["*/current_a"] }
steps:
  - detect: { name: silent, detector: dropout, missing: 5, alert: { severity: critical } }
  - output: alerts
`);
  const yaml = `
gateway: { id: gw-silent, data_dir: data }
inputs:
  - { name: local, type: mqtt, broker: { port: ${port} } }
pipelines: [pumps.yaml]
outbox: { commit_interval: 10ms }
`;
  const file = join(dir, 'edgewise.yaml');
  writeFileSync(file, yaml);
  const { config, pipelines } = parseGatewayText(yaml, file, {});
  const raised: AlertRecord[] = [];
  const gateway = new Gateway({
    config,
    pipelines: pipelines.map((p) => p.spec),
    baseDir: dir,
    log: silentLogger(),
    tickMs: 50,
    onEmission: (e) => {
      if (e.kind === 'alert' && e.alert.state === 'raised') raised.push(e.alert);
    },
  });
  t.after(async () => {
    await gateway.stop();
    cleanup();
  });
  await gateway.start();

  // 40 readings 100 ms apart (stamped with their send time), then nothing
  let last = 0;
  for (let i = 0; i < 40; i++) {
    last = Date.now();
    await publishAll(`mqtt://127.0.0.1:${port}`, [{ topic: 'sensors/pump-1/current_a', payload: JSON.stringify({ value: 20, ts: last }) }]);
    await new Promise((r) => setTimeout(r, 100 - (Date.now() - last)));
  }
  await waitFor(() => gateway.stats().readings >= 40, 'the readings to arrive');
  await waitFor(() => raised.length > 0, 'the silent alert');
  assert.equal(raised.length, 1);
  assert.equal(raised[0]!.stream, 'pump-1/current_a');
  assert.equal(raised[0]!.severity, 'critical');
  // dated in the sensor's time: at least 5 learnt intervals after its last reading
  assert.ok(raised[0]!.start - last >= 5 * 90, `raised ${raised[0]!.start - last} ms after the last reading`);
  assert.equal(gateway.stats().readings, 40, 'no reading came after the silence began');
});
