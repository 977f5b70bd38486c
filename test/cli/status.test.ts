import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../upstream/helpers.js';
import { edgewise } from './helpers.js';
import { freePort, publishAll, startRuntime, waitFor } from '../runtime/helpers.js';

test('edgewise status and dead-letters: from the HTTP server while the gateway runs, from its data dir after it stopped', { timeout: 120_000 }, async (t) => {
  const { dir, cleanup } = tempDir('edgewise-status-');
  const [inputPort, httpPort] = [await freePort(), await freePort()];
  const cfg = join(dir, 'edgewise.yaml');
  writeFileSync(join(dir, 'p.yaml'), 'name: temps\ninput: { streams: ["*/temperature"] }\nsteps:\n  - detect: { detector: ewma }\n  - output: alerts\n');
  writeFileSync(cfg, `gateway: { id: gw-status, data_dir: data }\ninputs:\n  - { name: local, type: mqtt, broker: { port: ${inputPort} } }\npipelines: [p.yaml]\noutbox: {}\nhttp: { port: ${httpPort} }\n`);
  const rt = await startRuntime(cfg);
  t.after(() => {
    if (rt.child.exitCode === null) rt.child.kill('SIGKILL');
    cleanup();
  });
  const t0 = Date.now() - 300_000;
  const msgs = Array.from({ length: 100 }, (_, i) => ({ topic: 'sensors/m1/temperature', payload: JSON.stringify({ value: 20 + (i % 3) * 0.1, ts: t0 + i * 1000 }) }));
  msgs.push({ topic: 'sensors/m1/temperature', payload: 'hello' });
  msgs.push({ topic: 'sensors/m1/temperature', payload: '{"value": "NaN"}' });
  // a second sensor that has sent only three readings: its detector is still learning
  for (let i = 0; i < 3; i++) msgs.push({ topic: 'sensors/m2/temperature', payload: JSON.stringify({ value: 21, ts: t0 + i * 1000 }) });
  const before = Date.now();
  await publishAll(`mqtt://127.0.0.1:${inputPort}`, msgs);

  await waitFor(() => /gw-status: ready/.test(edgewise(['status', '-c', cfg]).out), 'status to answer');
  let s = edgewise(['status', '-c', cfg]);
  assert.equal(s.code, 0, s.err);
  assert.match(s.out, /^local\s+mqtt\s+up\s+103\b/m, s.out);
  assert.match(s.out, /^temps\s+103\s+103\b/m, s.out);
  assert.match(s.out, /^pipeline\s+detect step\s+streams\s+learning\s+judging$/m, s.out);
  assert.match(s.out, /^temps\s+ewma\s+2\s+1\s+1$/m, `m1 is judged, m2 (3 readings) still learning:\n${s.out}`);
  assert.match(s.out, /drops by reason: .*input:local\./, s.out);
  const json = JSON.parse(edgewise(['status', '--url', `http://127.0.0.1:${httpPort}`, '--json']).out) as { gateway: string };
  assert.equal(json.gateway, 'gw-status');

  let d = edgewise(['dead-letters', '-c', cfg, '--json']);
  assert.equal(d.code, 0, d.err);
  const live = d.out.trim().split('\n').map((l) => JSON.parse(l) as { source: string; reason: string; at: number; sample: string; time: string });
  assert.ok(live.length >= 2, d.out);
  for (const r of live) assert.ok(r.at >= before && r.at <= Date.now() && r.time === new Date(r.at).toISOString(), `a real time: ${JSON.stringify(r)}`);
  assert.ok(live.some((r) => r.sample.includes('hello')), d.out);

  rt.child.kill('SIGTERM');
  assert.equal(await rt.exited, 0, rt.output());
  assert.match(rt.output(), /"gateway stopped"[^\n]*|"dropped":\{"input:local\./, 'the stop summary has drops by reason');
  const stopLine = rt.output().split('\n').find((l) => l.includes('"gateway stopped"'))!;
  assert.ok(Object.keys((JSON.parse(stopLine) as { dropped: Record<string, number> }).dropped).some((k) => k.startsWith('input:local.')), stopLine);

  // Stopped: the data dir still tells.
  s = edgewise(['status', '--data-dir', join(dir, 'data'), '--url', `http://127.0.0.1:${httpPort}`]);
  assert.equal(s.code, 3, `exit 3 when not running: ${s.err}`);
  assert.match(s.out, /gateway not running/);
  assert.match(s.out, /dead letters [1-9]/);
  assert.doesNotMatch(s.out, /detector state/, 'detector-state.json is gone: state lives in the outbox database');
  assert.match(s.out, /pipeline state: checkpoint .*: temps \(\d+ parts\); \d+ journaled readings after it/);
  d = edgewise(['dead-letters', '--data-dir', join(dir, 'data'), '--since', '1h', '--input', 'local']);
  assert.equal(d.code, 0, d.err);
  assert.match(d.out, /^time \(UTC\)\s+source\s+reason/m);
  assert.match(d.out, new RegExp(`^${new Date(before).toISOString().slice(0, 10)} \\S+\\s+input:local\\s+\\S+`, 'm'), d.out);
  assert.match(edgewise(['dead-letters', '--data-dir', join(dir, 'data'), '--since', '2099-01-01T00:00:00Z']).out, /No dead letters/);
  assert.match(edgewise(['dead-letters', '--data-dir', join(dir, 'data'), '--since', 'yesterday']).err, /--since yesterday: expected a duration/);
});
