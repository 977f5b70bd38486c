import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseGatewayText } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/log.js';
import type { Emission } from '../../src/core/records.js';
import { Gateway } from '../../src/runtime/gateway.js';
import { readOutboxSummary } from '../../src/runtime/outbox-file.js';
import { TestBroker, tempDir } from '../upstream/helpers.js';
import { freePort, publishAll, startRuntime, waitFor } from './helpers.js';

const PIPELINE = `
name: minute-means
input:
  streams: ["*/temperature"]
steps:
  - window: { type: tumbling, size: 1s, aggregates: [count, mean, max] }
  - output: upstream
`;

function gatewayYaml(dir: string, inputPort: number, upstreamUrl: string): string {
  writeFileSync(join(dir, 'minute-means.yaml'), PIPELINE);
  return `
gateway: { id: gw-e2e, data_dir: data }
log: { level: info }
inputs:
  - { name: local, type: mqtt, broker: { port: ${inputPort} } }
pipelines: [minute-means.yaml]
outbox: { commit_interval: 10ms }
upstream: { url: "${upstreamUrl}", reconnect_min: 100ms, reconnect_max: 500ms }
`;
}

/** Readings for `devices` machines, one a 100 ms of event time, as an ESP32 would publish them. */
function readings(devices: number, perDevice: number, t0: number) {
  const out: Array<{ topic: string; payload: string }> = [];
  for (let i = 0; i < perDevice; i++) {
    for (let d = 0; d < devices; d++) out.push({ topic: `sensors/m${d}/temperature`, payload: JSON.stringify({ value: 20 + d + (i % 10), ts: t0 + i * 100 }) });
  }
  return out;
}

test('input broker → pipeline → outbox → upstream broker: every window arrives, in order, gap-free', async (t) => {
  const { dir, cleanup } = tempDir('edgewise-gw-');
  const upstream = new TestBroker();
  await upstream.start();
  const inputPort = await freePort();
  const loaded = parseGatewayText(gatewayYaml(dir, inputPort, upstream.url), join(dir, 'edgewise.yaml'), {}, dir);
  const seen: Emission[] = [];
  const gw = new Gateway({ config: loaded.config, pipelines: loaded.pipelines.map((p) => p.spec), baseDir: dir, log: silentLogger(), onEmission: (e) => seen.push(e) });
  t.after(async () => {
    await gw.stop();
    await upstream.stop();
    cleanup();
  });
  await gw.start();
  const t0 = Date.now() - 10_000;
  await publishAll(`mqtt://127.0.0.1:${inputPort}`, readings(3, 50, t0)); // 5 s of data per device
  await gw.stop(); // flushes the last (partial) windows and the outbox
  const windows = seen.filter((e) => e.kind === 'aggregate');
  assert.ok(windows.length >= 15, `expected ≥ 15 windows, got ${windows.length}`);
  await waitFor(() => upstream.messages().length === windows.length, () => `${windows.length} messages upstream (got ${upstream.messages().length})`);
  const byStream = new Map<string, number[]>();
  let total = 0;
  for (const m of upstream.messages()) {
    const p = JSON.parse(m.payload.toString());
    assert.equal(p.gateway, 'gw-e2e');
    assert.equal(p.kind, 'aggregate');
    assert.match(m.topic, /^edgewise\/v1\/gw-e2e\/aggregate\/m\d\/temperature$/);
    byStream.set(p.stream, [...(byStream.get(p.stream) ?? []), p.seq]);
    total += p.data.count;
  }
  assert.equal(total, 150, 'every reading is counted in exactly one window upstream');
  for (const [stream, seqs] of byStream) assert.deepEqual(seqs, seqs.map((_, i) => i + 1), `${stream}: seq in order, no gaps`);
});

test('edgewise run: SIGTERM stops cleanly (exit 0); SIGKILL while buffering loses nothing committed', { timeout: 300_000 }, async (t) => {
  const { dir, cleanup } = tempDir('edgewise-run-');
  const upstream = new TestBroker();
  upstream.port = await freePort(); // not started: the uplink is down
  const inputPort = await freePort();
  const cfg = join(dir, 'edgewise.yaml');
  writeFileSync(cfg, gatewayYaml(dir, inputPort, upstream.url));
  let rt: Awaited<ReturnType<typeof startRuntime>> | undefined;
  t.after(async () => {
    if (rt && rt.child.exitCode === null) rt.child.kill('SIGKILL'); // never leave a runtime behind a failed test
    await upstream.stop();
    cleanup();
  });

  // 1. Readings come in while the uplink is down; windows are committed to the outbox; SIGKILL.
  rt = await startRuntime(cfg);
  const t0 = Math.floor((Date.now() - 60_000) / 1000) * 1000; // aligned: 10 full 1 s windows per device
  await publishAll(`mqtt://127.0.0.1:${inputPort}`, readings(2, 100, t0)); // 10 s per device → 9 closed windows each
  // Once the group commit has landed the 18 windows in the outbox file, kill without warning.
  const outboxFile = join(dir, 'data', 'outbox.db');
  await waitFor(() => existsSync(outboxFile) && readOutboxSummary(outboxFile).messages >= 18, 'the 18 closed windows committed to the outbox file');
  rt.child.kill('SIGKILL');
  await rt.exited;

  // 2. Uplink back, runtime restarted: the committed backlog drains.
  await upstream.start();
  rt = await startRuntime(cfg);
  // Distinct ids, not messages: a resent duplicate must not stand in for a window still to come.
  const upIds = () => new Set(upstream.messages().map((m) => JSON.parse(m.payload.toString()).id));
  await waitFor(() => upIds().size >= 18, () => `18 buffered windows upstream (got ${upIds().size})`);
  const ids = upIds();
  assert.equal(ids.size, 18, 'each buffered window arrives (duplicates, if any, share an id)');
  const counts = upstream.messages().map((m) => JSON.parse(m.payload.toString()).data.count);
  assert.ok(counts.every((c) => c === 10), `every full window had 10 readings: ${counts}`);

  // 3. SIGTERM: clean exit 0, and the status goes offline.
  rt.child.kill('SIGTERM');
  assert.equal(await rt.exited, 0, rt.output());
  assert.match(rt.output(), /"gateway stopped"/);
});
