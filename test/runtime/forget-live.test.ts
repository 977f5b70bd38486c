/**
 * A real gateway (embedded MQTT broker, the gateway's ticks): a device that stops publishing is
 * forgotten after `input.forget_after`, its alert cleared with that reason, its streams freed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AlertRecord } from '../../src/core/records.js';
import { publishAll, waitFor } from './helpers.js';
import { startLocalGateway } from './local-gateway.js';

test('a device that stops publishing is forgotten after input.forget_after: its alert clears as such, its streams go', async (t) => {
  const alerts: AlertRecord[] = [];
  const { gateway, url } = await startLocalGateway(t, 'gw-forget', `
name: ward
input: { streams: ["*/spo2"], forget_after: 2s }
steps:
  - detect: { name: low-spo2, detector: threshold, below: 90 }
  - output: alerts
`, (e) => {
    if (e.kind === 'alert') alerts.push(e.alert);
  });
  const at = Date.now();
  await publishAll(url, [
    { topic: 'sensors/bed-1/spo2', payload: JSON.stringify({ value: 85, ts: at }) },
    { topic: 'sensors/bed-2/spo2', payload: JSON.stringify({ value: 97, ts: at }) },
  ]);
  await waitFor(() => alerts.length === 1, 'the low SpO2 alert');
  // bed-2 keeps publishing (a reading every 300 ms: the scenario's pace); bed-1 is gone
  const ward = () => gateway.stats().pipelines.find((p) => p.pipeline === 'ward')!;
  while (alerts.length < 2 && Date.now() - at < 8000) {
    const ts = Date.now();
    await publishAll(url, [{ topic: 'sensors/bed-2/spo2', payload: JSON.stringify({ value: 97, ts }) }]);
    await new Promise((r) => setTimeout(r, 300 - (Date.now() - ts)));
  }
  await waitFor(() => alerts.length === 2, 'the forgotten clear');
  const cleared = alerts[1]!;
  assert.equal(cleared.state, 'cleared');
  assert.equal(cleared.stream, 'bed-1/spo2');
  assert.equal(cleared.reason, 'forgotten: bed-1 sent nothing for 2s (input.forget_after)');
  assert.ok(Date.now() - at >= 2000, 'not before forget_after');
  assert.equal(ward().forgottenDevices, 1);
  assert.equal(ward().keys, 1, 'bed-2 is still tracked');
});
