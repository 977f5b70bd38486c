import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../upstream/helpers.js';
import { edgewise } from './helpers.js';
import { freePort, publishAll, startRuntime, waitFor } from '../runtime/helpers.js';
import { drive, testDrive } from '../domain/telematics-signals.js';
import type { StatusReport } from '../../src/http/server.js';

test('edgewise status: where each vehicle of the telematics step stands (its forward learnt from speed), from a running gateway', { timeout: 120_000 }, async (t) => {
  const { dir, cleanup } = tempDir('edgewise-status-steps-');
  const [inputPort, httpPort] = [await freePort(), await freePort()];
  const cfg = join(dir, 'edgewise.yaml');
  writeFileSync(
    cfg,
    `gateway: { id: gw-steps, data_dir: data }\ninputs:\n  - { name: van, type: mqtt, broker: { port: ${inputPort} }, topics: ["imu/{device}"] }\n` +
      `pipelines: [${join(process.cwd(), 'pipelines/telematics.yaml')}]\noutbox: {}\nhttp: { port: ${httpPort} }\n`,
  );
  const rt = await startRuntime(cfg);
  t.after(() => {
    if (rt.child.exitCode === null) rt.child.kill('SIGKILL');
    cleanup();
  });
  // A van with its phone mounted askew (10 Hz IMU and 1 Hz speed), one message per sample.
  const d = testDrive();
  const { readings } = drive(d.script, { hz: 10, speed: true, mount: [70, 10, -5], device: 'van-7', t0: Date.now() - 400_000 });
  const byTs = new Map<number, Record<string, number>>();
  for (const r of readings) {
    const row = byTs.get(r.ts) ?? { ts: r.ts };
    row[r.stream.split('/')[1]!] = r.value;
    byTs.set(r.ts, row);
  }
  await publishAll(`mqtt://127.0.0.1:${inputPort}`, [...byTs.values()].map((row) => ({ topic: 'imu/van-7', payload: JSON.stringify(row) })));

  const url = `http://127.0.0.1:${httpPort}`;
  // Polled over HTTP (each `edgewise status` is a process of its own); the command is run once below.
  await waitFor(async () => {
    const s = (await (await fetch(`${url}/api/status`)).json()) as StatusReport;
    return s.stats.pipelines[0]?.accepted === readings.length;
  }, 'every reading to be taken');
  const s = edgewise(['status', '--url', url, '--json']);
  assert.equal(s.code, 0, s.err);
  const json = JSON.parse(s.out) as StatusReport;
  const step = json.steps.find((s) => s.step === 'telematics');
  assert.ok(step, JSON.stringify(json.steps));
  assert.equal(step.total, 1);
  const van = step.rows[0] as { vehicle: string; source: string; forward: string; forwardAxis: number[]; speedLag: number };
  assert.deepEqual([van.vehicle, van.source, van.forward, van.speedLag], ['van-7', 'imu', 'speed', 0]);
  assert.equal(van.forwardAxis.length, 3);

  // ...and as Prometheus gauges: one vehicle, its forward known, nothing waiting for it
  const metrics = await (await fetch(`${url}/metrics`)).text();
  for (const [name, n] of [['vehicles', 1], ['forward_unknown', 0], ['waiting', 0]] as const) {
    assert.match(metrics, new RegExp(`^edgewise_pipeline_operator_state\\{pipeline="telematics",operator="telematics",name="${name}"\\} ${n}$`, 'm'), metrics.split('\n').filter((l) => l.includes('operator_state')).join('\n'));
  }
  assert.match(metrics, /^edgewise_pipeline_operator_state\{pipeline="telematics",operator="engine",name="running"\} 1$/m, 'a van that sends no rpm is taken as running');

  const text = edgewise(['status', '--url', url]);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /^telematics telematics:\n\s*vehicle\s+source\s+forward\s/m, text.out);
  assert.match(text.out, /^van-7\s+imu\s+speed\s/m, text.out);
});
