import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { StatusReport } from '../../src/http/server.js';
import type { ReloadReport } from '../../src/runtime/reload.js';
import { TestBroker, tempDir } from '../upstream/helpers.js';
import { freePort, startRuntime, waitFor } from './helpers.js';
import { Qos1Publisher } from './qos1-publisher.js';

const TOKEN = 'reload-test-token-0123456789';
/**
 * The bound for a wait that includes a reload: it loads the config in a child process (node and
 * tsx, as a start does): 8-10 s here with the machine loaded (a start took 11-15 s), so the bound
 * of a start (startRuntime's), not the default 30 s.
 */
const RELOAD_MS = 90_000;

const TEMP = (aggregates = 'count, mean') => `name: temp
input:
  streams: ["*/temp"]
steps:
  - window: { type: tumbling, size: 1h, aggregates: [${aggregates}] }
  - output: upstream
`;
const HUM = (aggregates = 'count') => `name: hum
input:
  streams: ["*/hum"]
steps:
  - window: { type: tumbling, size: 1h, aggregates: [${aggregates}] }
  - output: upstream
`;

interface Ports {
  input: number;
  extra: number;
  http: number;
  upstream: string;
}

function gatewayYaml(p: Ports, o: { id?: string; extra?: boolean; clash?: boolean; watch?: boolean } = {}): string {
  return `gateway: { id: ${o.id ?? 'gw-reload'}, data_dir: data }
log: { level: info }
inputs:
  - { name: local, type: mqtt, broker: { port: ${p.input} } }
${o.extra ? `  - { name: extra, type: mqtt, broker: { port: ${p.extra} } }\n` : ''}${o.clash ? `  - { name: clash, type: mqtt, broker: { port: ${p.http} } }\n` : ''}pipelines: [temp.yaml, hum.yaml]
outbox: { commit_interval: 10ms }
upstream: { url: "${p.upstream}", reconnect_min: 100ms, reconnect_max: 500ms }
http: { port: ${p.http}, token: ${TOKEN} }
state: { checkpoint_interval: 1h }
stats_log: 0
reload: { watch: ${o.watch ?? false} }
`;
}

/** Event times in the first seconds of an hour that is over: every reading of a stream falls in one 1 h window, which only a flush closes. */
const HOUR = Math.floor((Date.now() - 10 * 60_000) / 3_600_000) * 3_600_000;
let nextTs = HOUR + 1000;

/** Publish `n` readings of `stream` (device/metric) at QoS 1 and wait for every PUBACK. */
function publish(p: Qos1Publisher, stream: string, n: number): Promise<void> {
  const acks: Array<Promise<void>> = [];
  for (let i = 0; i < n; i++) acks.push(new Promise((r) => p.publish(`sensors/${stream}`, JSON.stringify({ value: 20 + i, ts: nextTs++ }), r)));
  return Promise.all(acks).then(() => {});
}

/** An HTTP answer; `body` is the JSON the route answers with (`T`: its type in src/), else the text. */
async function http<T = string>(port: number, path: string, method = 'GET', token: string | null = TOKEN): Promise<{ status: number; body: T }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
}

/** Aggregates upstream (deduplicated by id), as { stream, count, partial } in arrival order. */
function aggregates(up: TestBroker): Array<{ stream: string; count: number; partial: boolean }> {
  const seen = new Set<string>();
  const out: Array<{ stream: string; count: number; partial: boolean }> = [];
  for (const m of up.messages()) {
    const p = JSON.parse(m.payload.toString());
    if (p.kind !== 'aggregate' || seen.has(p.id)) continue;
    seen.add(p.id);
    out.push({ stream: p.stream, count: p.data.count, partial: !!p.data.partial });
  }
  return out;
}

const count = (s: string, re: RegExp) => (s.match(new RegExp(re.source, 'g')) ?? []).length;

async function setup(t: import('node:test').TestContext, o: { watch?: boolean } = {}) {
  const { dir, cleanup } = tempDir('edgewise-reload-');
  const upstream = new TestBroker();
  await upstream.start();
  const ports: Ports = { input: await freePort(), extra: await freePort(), http: await freePort(), upstream: upstream.url };
  const cfg = join(dir, 'edgewise.yaml');
  writeFileSync(join(dir, 'temp.yaml'), TEMP());
  writeFileSync(join(dir, 'hum.yaml'), HUM());
  writeFileSync(cfg, gatewayYaml(ports, o));
  const rt = await startRuntime(cfg);
  const pubs: Qos1Publisher[] = [];
  t.after(async () => {
    for (const p of pubs) p.end();
    if (rt.child.exitCode === null) rt.child.kill('SIGKILL');
    await upstream.stop();
    cleanup();
  });
  const publisher = (port: number, id: string) => {
    const p = new Qos1Publisher(port, id);
    pubs.push(p);
    return p;
  };
  return { dir, cfg, ports, upstream, rt, publisher };
}

test('reload: SIGHUP keeps an unchanged pipeline (its open window counts readings from before and after), rebuilds a changed one, starts and stops inputs; an invalid file is refused with FILE:LINE:COLUMN and the old pipelines keep running; POST /reload; the MQTT client stays connected', { timeout: 300_000 }, async (t) => {
  const { dir, cfg, ports, upstream, rt, publisher } = await setup(t);
  const device = publisher(ports.input, 'esp32-1');
  const accepted = async (name: string) => (await http<StatusReport>(ports.http, '/api/status')).body.stats.pipelines.find((p) => p.pipeline === name)?.accepted;

  // 1. Readings into both pipelines' open windows.
  await publish(device, 'm1/temp', 5);
  await publish(device, 'm1/hum', 5);

  // 2. SIGHUP: hum changed (one more aggregate), a new input; temp unchanged.
  writeFileSync(join(dir, 'hum.yaml'), HUM('count, max'));
  writeFileSync(cfg, gatewayYaml(ports, { extra: true }));
  rt.child.kill('SIGHUP');
  await waitFor(() => count(rt.output(), /"msg":"reload applied/) === 1, () => `the reload to be applied:\n${rt.output()}`, RELOAD_MS);
  const applied: ReloadReport = JSON.parse(rt.output().split('\n').find((l) => l.includes('"msg":"reload applied'))!);
  assert.deepEqual(applied.changes?.pipelines.kept, ['temp']);
  assert.deepEqual(applied.changes?.pipelines.rebuilt.map((r) => r.name), ['hum']);
  assert.deepEqual(applied.changes?.inputs, { kept: ['local'], restarted: [], stopped: [], started: ['extra'] });
  // The rebuilt pipeline's window went out as partial with the readings from before.
  await waitFor(() => aggregates(upstream).some((a) => a.stream === 'm1/hum'), 'the rebuilt pipeline to flush its window', RELOAD_MS);
  assert.deepEqual(aggregates(upstream), [{ stream: 'm1/hum', count: 5, partial: true }]);

  // 3. More readings: temp through the connection that saw the reload, hum through the new input.
  await publish(device, 'm1/temp', 3);
  const second = publisher(ports.extra, 'esp32-2');
  await publish(second, 'm1/hum', 3);
  second.end();

  // 4. An invalid file: refused with its place, logged at error; the old temp pipeline keeps counting.
  writeFileSync(join(dir, 'temp.yaml'), TEMP('count, meen'));
  rt.child.kill('SIGHUP');
  await waitFor(() => /"level":50[^\n]*reload refused/.test(rt.output()), () => `the invalid reload to be refused:\n${rt.output()}`, RELOAD_MS);
  assert.match(rt.output(), /temp\.yaml:5:\d+: error: /);
  await publish(device, 'm1/temp', 2);
  assert.equal(await accepted('temp'), 10);

  // 5. POST /reload: the token is required; the invalid file gives 422 with the same messages.
  assert.equal((await http(ports.http, '/reload', 'POST', null)).status, 401);
  assert.equal((await http(ports.http, '/reload', 'GET')).status, 405);
  const invalid = await http<ReloadReport>(ports.http, '/reload', 'POST');
  assert.equal(invalid.status, 422, JSON.stringify(invalid.body));
  assert.equal(invalid.body.result, 'invalid');
  assert.match(invalid.body.errors?.[0] ?? '', /temp\.yaml:5:\d+: error: steps\[0\]\.window\.aggregates/);
  assert.equal(invalid.body.issues?.[0]?.line, 5);

  // 6. A setting that cannot change live: refused (409), naming it.
  writeFileSync(join(dir, 'temp.yaml'), TEMP());
  writeFileSync(cfg, gatewayYaml(ports, { id: 'gw-renamed', extra: true }));
  const refused = await http<ReloadReport>(ports.http, '/reload', 'POST');
  assert.equal(refused.status, 409, JSON.stringify(refused.body));
  assert.match(refused.body.restartRequired?.join('\n') ?? '', /gateway\.id changed \("gw-reload" → "gw-renamed"\): it cannot change while running/);

  // An input that cannot start (its port is the HTTP server's): 500, named; the rest runs.
  writeFileSync(cfg, gatewayYaml(ports, { extra: true, clash: true }));
  const clash = await http<ReloadReport>(ports.http, '/reload', 'POST');
  assert.equal(clash.status, 500, JSON.stringify(clash.body));
  assert.equal(clash.body.result, 'failed');
  assert.match(clash.body.errors?.[0] ?? '', /^input clash: .*the port is in use/);
  assert.equal((await http<StatusReport>(ports.http, '/api/status')).body.stats.inputs.length, 2, 'local and extra run, clash does not');

  // 7. Back to the first config: the extra input is stopped (its port closes), both pipelines kept.
  writeFileSync(cfg, gatewayYaml(ports));
  const ok = await http<ReloadReport>(ports.http, '/reload', 'POST');
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.deepEqual(ok.body.changes?.pipelines.kept, ['temp', 'hum']);
  assert.deepEqual(ok.body.changes?.inputs.stopped, ['extra']);
  await assert.rejects(
    new Promise((resolve, reject) => net.connect(ports.extra, '127.0.0.1').once('connect', resolve).once('error', reject)),
    /ECONNREFUSED/,
  );
  const metrics = (await http(ports.http, '/metrics')).body;
  for (const [result, n] of Object.entries({ applied: 2, invalid: 2, refused: 1, failed: 1 })) assert.match(metrics, new RegExp(`^edgewise_reloads_total\\{result="${result}"\\} ${n}$`, 'm'));

  // The device never lost its connection; SIGTERM flushes the last windows.
  assert.equal(device.connects, 1, 'the publishing client was not disconnected by the reloads');
  rt.child.kill('SIGTERM');
  assert.equal(await rt.exited, 0, rt.output());
  await waitFor(() => aggregates(upstream).length === 3, () => `3 aggregates upstream: ${JSON.stringify(aggregates(upstream))}`);
  assert.deepEqual(
    aggregates(upstream).sort((a, b) => a.stream.localeCompare(b.stream) || b.count - a.count),
    [
      { stream: 'm1/hum', count: 5, partial: true }, // before the rebuild
      { stream: 'm1/hum', count: 3, partial: true }, // after it
      { stream: 'm1/temp', count: 10, partial: true }, // one window across three reloads: 5 + 3 + 2
    ],
  );
});

test('a reload is a checkpoint boundary: SIGKILL after a reload and restart count every acknowledged reading once, in the pipeline that took it', { timeout: 300_000 }, async (t) => {
  const { dir, cfg, ports, upstream, rt, publisher } = await setup(t);
  const device = publisher(ports.input, 'esp32-1');
  await publish(device, 'm1/temp', 5);
  await publish(device, 'm1/hum', 5);
  writeFileSync(join(dir, 'hum.yaml'), HUM('count, max'));
  rt.child.kill('SIGHUP');
  await waitFor(() => aggregates(upstream).length === 1, () => `the rebuilt pipeline to flush its window:\n${rt.output()}`, RELOAD_MS);
  await publish(device, 'm1/temp', 4);
  await publish(device, 'm1/hum', 4); // PUBACKed: journaled
  rt.child.kill('SIGKILL');
  await rt.exited;

  // The restart restores the checkpoint taken at the reload and replays only what came after it.
  const again = await startRuntime(cfg);
  t.after(() => {
    if (again.child.exitCode === null) again.child.kill('SIGKILL');
  });
  // Stop once the uplink is back (a stop drains to it; a busy machine may take a moment to connect).
  await waitFor(() => upstream.statuses.filter((st) => st === 'online').length === 2, () => `the restarted gateway online upstream: ${upstream.statuses}`);
  again.child.kill('SIGTERM');
  assert.equal(await again.exited, 0, again.output());
  await waitFor(() => aggregates(upstream).length >= 3, () => `3 aggregates upstream: ${JSON.stringify(aggregates(upstream))}`);
  assert.deepEqual(
    aggregates(upstream).sort((a, b) => a.stream.localeCompare(b.stream) || b.count - a.count),
    [
      { stream: 'm1/hum', count: 5, partial: true }, // flushed by the rebuild, before the crash
      { stream: 'm1/hum', count: 4, partial: true }, // the rebuilt pipeline's readings, replayed
      { stream: 'm1/temp', count: 9, partial: true }, // the kept window: 5 checkpointed + 4 replayed
    ],
  );
});

test('reload.watch: a changed pipeline file is reloaded, an invalid one refused', { timeout: 300_000 }, async (t) => {
  const { dir, rt } = await setup(t, { watch: true });
  // The watch starts after "gateway running": a change written before it would go unseen.
  await waitFor(() => rt.output().includes('reload: watching'), () => `the file watch to start:\n${rt.output()}`);
  writeFileSync(join(dir, 'hum.yaml'), HUM('count, min'));
  await waitFor(() => /"trigger":"file change: [^"]*hum\.yaml"[^\n]*"msg":"reload applied/.test(rt.output()), () => `a reload on the file change:\n${rt.output()}`, RELOAD_MS);
  writeFileSync(join(dir, 'hum.yaml'), HUM('count, minn'));
  await waitFor(() => /"level":50[^\n]*reload refused[^\n]*hum\.yaml:5:\d+: error: /.test(rt.output()), () => `the invalid change to be refused:\n${rt.output()}`, RELOAD_MS);
  rt.child.kill('SIGTERM');
  assert.equal(await rt.exited, 0, rt.output());
});
