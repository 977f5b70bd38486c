/**
 * A real gateway (embedded MQTT broker, the gateway's ticks) with a sensor that stops publishing:
 * its `dropout` alert comes while it is silent, without another reading (docs/pipelines.md, time).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AlertRecord } from '../../src/core/records.js';
import { publishAll, waitFor } from './helpers.js';
import { startLocalGateway } from './local-gateway.js';

test('a sensor that stops publishing is reported while silent, by the gateway\'s ticks', async (t) => {
  const raised: AlertRecord[] = [];
  const { gateway, url } = await startLocalGateway(t, 'gw-silent', `
name: pumps
input: { streams: ["*/current_a"] }
steps:
  - detect: { name: silent, detector: dropout, missing: 5, alert: { severity: critical } }
  - output: alerts
`, (e) => {
    if (e.kind === 'alert' && e.alert.state === 'raised') raised.push(e.alert);
  });

  // 40 readings 100 ms apart (stamped with their send time), then nothing
  let last = 0;
  for (let i = 0; i < 40; i++) {
    last = Date.now();
    await publishAll(url, [{ topic: 'sensors/pump-1/current_a', payload: JSON.stringify({ value: 20, ts: last }) }]);
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
