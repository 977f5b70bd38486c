import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkSequences, tempDir, TestBroker } from '../upstream/helpers.js';
import { freePort, publishAll, startRuntime, waitFor } from './helpers.js';

const PIPELINE = `
name: alarms
input: { streams: ["*/temp"] }
steps:
  - detect: { detector: threshold, above: 100, output: alerts }
`;

test('alerts first, durably: an alert goes upstream without the group commit, and a SIGKILL right after its PUBACK resends it only under its own id', { timeout: 240_000 }, async (t) => {
  const { dir, cleanup } = tempDir('edgewise-alert-crash-');
  const upstream = new TestBroker();
  await upstream.start();
  t.after(async () => {
    await upstream.stop();
    cleanup();
  });
  const inputPort = await freePort();
  const cfg = join(dir, 'edgewise.yaml');
  writeFileSync(join(dir, 'alarms.yaml'), PIPELINE);
  // The group commit and the checkpoints never fire by themselves in this test: only the alert's own commit can send it.
  writeFileSync(
    cfg,
    `gateway: { id: gw-alert, data_dir: data }
log: { level: info }
inputs:
  - { name: local, type: mqtt, broker: { port: ${inputPort} } }
pipelines: [alarms.yaml]
outbox: { commit_interval: 60s }
upstream: { url: "${upstream.url}", reconnect_min: 50ms, reconnect_max: 300ms }
state: { checkpoint_interval: 60s }
`,
  );
  const alerts = () => upstream.messages().filter((m) => m.topic.includes('/alert/'));
  let rt = await startRuntime(cfg);
  t.after(() => {
    if (rt.child.exitCode === null && rt.child.signalCode === null) rt.child.kill('SIGKILL');
  });
  // Kill the gateway the moment the upstream broker has acknowledged the first alert.
  upstream.onPublished = (m) => {
    if (m.topic.includes('/alert/')) {
      upstream.onPublished = undefined;
      rt.child.kill('SIGKILL');
    }
  };
  const readings = [20, 21, 150].map((value, i) => ({ topic: 'sensors/boiler/temp', payload: JSON.stringify({ ts: Date.now() + i, value }) }));
  // The last PUBACK may be lost with the process: the reading is journaled all the same (it was committed with the alert).
  await publishAll(`mqtt://127.0.0.1:${inputPort}`, readings).catch(() => {});
  await waitFor(() => alerts().length >= 1, 'the raised alert upstream (the group commit is 60 s away)');
  await rt.exited;
  assert.equal(rt.child.signalCode, 'SIGKILL');

  // Restart: the alert's deletion was never committed, so it is sent again; the replay of the journal raises it again and is refused.
  rt = await startRuntime(cfg);
  await waitFor(() => alerts().length >= 2, 'the alert resent after the restart');
  rt.child.kill('SIGTERM');
  assert.equal(await rt.exited, 0, rt.output());
  const copies = alerts().map((m) => JSON.parse(m.payload.toString()) as { id: string; seq: number; data: { alert_id: string; state: string } });
  assert.ok(copies.every((c) => c.data.state === 'raised' && c.data.alert_id === copies[0]!.data.alert_id), JSON.stringify(copies));
  assert.deepEqual(new Set(copies.map((c) => `${c.id} seq=${c.seq}`)).size, 1, `one record, one id, one seq: ${JSON.stringify(copies.map((c) => [c.id, c.seq]))}`);
  assert.deepEqual(checkSequences(alerts()).problems, []);
  const replayed = Number(/"replayed":(\d+)/.exec(rt.output())?.[1] ?? 0);
  assert.ok(replayed >= 3, `the restart replayed the journaled readings (the spike raised the alert again; its copy was refused): replayed ${replayed}`);
});
