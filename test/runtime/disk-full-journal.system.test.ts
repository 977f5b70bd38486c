/**
 * `edgewise run` with its data directory on a 4 MiB tmpfs that fills up while readings flow (QoS 0
 * and QoS 1 into the embedded broker, raw forwarding, the uplink down): the ingest journal cannot
 * commit. It must not try at every reading nor log every try, must hold a bounded number of
 * entries (dropping, counted, only what no acknowledgement waits for), must withhold the QoS 1
 * PUBACK until the reading is durable, and must recover by itself when space returns. And the
 * outbox's own backlog filling the disk (uplink down, `max_bytes` above the disk): it must stop
 * growing in time, so that the backlog drains once the uplink is back.
 */
import assert from 'node:assert/strict';
import type net from 'node:net';
import { readdirSync, statfsSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { fill, mountTmpfs } from '../helpers/tmpfs.js';
import { TestBroker } from '../upstream/helpers.js';
import { freePort, startRuntime, waitFor } from './helpers.js';

/** For a failure message: the data directory's files, the free space, the runtime's last warn and error lines. */
function diagnose(dir: string, output: string): string {
  const files = readdirSync(join(dir, 'data')).map((f) => `${f} ${statSync(join(dir, 'data', f)).size} B`);
  const fs = statfsSync(dir);
  const lines = output.split('\n').filter((l) => /"level":[456]0/.test(l) && !l.includes('ECONNREFUSED'));
  return `files: ${files.join(', ')}; free ${fs.bavail * fs.bsize} B\n${lines.slice(-10).map((l) => l.slice(0, 600)).join('\n')}`;
}

/**
 * `edgewise run` in `dir` (data in `dir/data`): the embedded broker, a raw pipeline, `upstream`,
 * metrics over HTTP; a connected QoS publisher. Stopped by `stops`.
 */
async function gateway(dir: string, stops: Array<() => unknown>, id: string, upstream: string, extra = '') {
  const inputPort = await freePort();
  const httpPort = await freePort();
  const cfg = join(dir, 'edgewise.yaml');
  writeFileSync(join(dir, 'raw.yaml'), JSON.stringify({ name: 'raw', input: { streams: ['*/*'] }, steps: [{ output: 'raw' }] }));
  writeFileSync(
    cfg,
    `gateway: { id: ${id}, data_dir: data }
inputs:
  - { name: local, type: mqtt, broker: { port: ${inputPort} } }
pipelines: [raw.yaml]
upstream: ${upstream}
http: { port: ${httpPort} }
${extra}
`,
  );
  const rt = await startRuntime(cfg);
  stops.push(async () => {
    rt.child.kill('SIGKILL');
    await rt.exited;
  });
  const metric = async (name: string): Promise<number> => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`).catch((err: Error) => assert.fail(`GET /metrics: ${err.message}; the runtime (exit ${rt.child.exitCode}) said: ${rt.output().slice(-3000)}`));
    const text = await res.text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line === undefined ? Number.NaN : Number(line.split(' ').at(-1));
  };
  const pub = mqtt.connect(`mqtt://127.0.0.1:${inputPort}`, { clientId: 'dev', reconnectPeriod: 200 });
  pub.on('connect', () => (pub.stream as net.Socket).setNoDelay?.(true));
  stops.push(() => pub.end(true));
  await waitFor(() => pub.connected, 'the publisher to connect');
  return { rt, metric, pub };
}

const mounted = mountTmpfs('4m');

test('a full disk under the ingest journal: bounded retries, one error line, bounded memory, QoS 1 acknowledged only once durable, recovery by itself', { skip: typeof mounted === 'string' ? mounted : false, timeout: 180_000 }, async (t) => {
  const m = mounted as { dir: string; unmount: () => void };
  const stops: Array<() => unknown> = [];
  t.after(async () => {
    for (const stop of stops.reverse()) await stop();
    m.unmount();
  });
  const { rt, metric, pub } = await gateway(m.dir, stops, 'gw-full', `{ url: "mqtt://127.0.0.1:${await freePort()}", reconnect_min: 1s, reconnect_max: 2s }`);

  let sent = 0;
  const burst = (n: number) => {
    for (let i = 0; i < n; i++) pub.publish(`sensors/d${sent % 20}/v`, JSON.stringify({ value: sent++ }), { qos: 0 });
  };
  burst(500);
  await waitFor(async () => (await metric('edgewise_state_journal_commits_total')) > 0, 'the journal commits');

  // The disk fills up. Then 30,000 QoS 0 readings (more than the 20,000 the journal holds) and one QoS 1.
  const filler = fill(m.dir, 0);
  for (let k = 0; k < 30; k++) {
    burst(1000);
    await new Promise((r) => setImmediate(r));
  }
  let acked = false;
  pub.publish('sensors/q1/v', JSON.stringify({ value: 1 }), { qos: 1 }, () => (acked = true));
  await waitFor(async () => (await metric('edgewise_state_journal_dropped_total')) > 0, () => `readings beyond the bound dropped and counted:\n${rt.output().slice(-3000)}`, 60_000);
  await waitFor(async () => (await metric('edgewise_state_journal_failed_commits_total')) >= 2, 'commits retried');
  const failed = await metric('edgewise_state_journal_failed_commits_total');
  assert.ok(failed < 200, `commits tried about once a second, not at every reading (${failed} tries for ${sent} readings)`);
  assert.equal(acked, false, 'the QoS 1 publish is not acknowledged while it cannot be made durable');
  const errors = rt.output().split('\n').filter((l) => l.includes('ingest journal: commit failed'));
  assert.equal(errors.length, 1, 'one error line for the run of failures');

  // Space again: the journal commits by itself, the PUBACK comes, and a line says what was not journaled.
  unlinkSync(filler);
  await waitFor(() => acked, () => `the QoS 1 publish acknowledged once space returned:\n${rt.output().slice(-3000)}`, 60_000);
  await waitFor(() => rt.output().includes('ingest journal: commits succeed again'), () => `the recovery line:
${diagnose(m.dir, rt.output())}`);
  const dropped = await metric('edgewise_state_journal_dropped_total');
  assert.ok(dropped >= 30_000 - 20_000 && dropped < sent, `dropped ${dropped} of ${sent}`);
  assert.equal(rt.child.exitCode, null, 'still running');
});

const mounted2 = mountTmpfs('8m');

test('the outbox backlog fills the disk (uplink down, max_bytes above the disk): drops counted, and once the uplink is back the backlog drains and the journal commits again', { skip: typeof mounted2 === 'string' ? mounted2 : false, timeout: 240_000 }, async (t) => {
  const m = mounted2 as { dir: string; unmount: () => void };
  const stops: Array<() => unknown> = [];
  t.after(async () => {
    for (const stop of stops.reverse()) await stop();
    m.unmount();
  });
  const upstream = new TestBroker();
  upstream.port = await freePort(); // down until the backlog has filled the disk
  const { rt, metric, pub } = await gateway(m.dir, stops, 'gw-fill', `{ url: "mqtt://127.0.0.1:${upstream.port}", reconnect_min: 200ms, reconnect_max: 500ms }`, 'outbox: { memory_bytes: 1MB }');

  // Uplink down: readings (with a 300-byte field: the journal grows as fast as the outbox) until the outbox has filled the 8 MiB disk and drops for disk_full.
  let sent = 0;
  const note = 'x'.repeat(300);
  while ((await metric('edgewise_outbox_dropped_total')) > 0 === false) {
    for (let i = 0; i < 2000; i++) pub.publish(`sensors/d${sent % 20}/v`, JSON.stringify({ value: sent++, note }), { qos: 0 });
    await new Promise((r) => setTimeout(r, 50));
    if (sent > 400_000) assert.fail(`no drop after ${sent} readings: ${rt.output().slice(-2000)}`);
  }
  // Uplink back, input goes on slowly (50 readings/s): the backlog of thousands drains, the journal commits again.
  await upstream.start();
  stops.push(() => upstream.stop());
  const ticker = setInterval(() => pub.publish('sensors/slow/v', JSON.stringify({ value: sent++ }), { qos: 0 }), 20);
  stops.push(() => clearInterval(ticker));
  const diag = (): string => diagnose(m.dir, rt.output());
  await waitFor(async () => (await metric('edgewise_outbox_messages')) < 100, () => `the backlog drained:\n${diag()}`, 30_000);
  const commits = await metric('edgewise_state_journal_commits_total');
  await waitFor(async () => (await metric('edgewise_state_journal_commits_total')) > commits, () => `the journal commits again:\n${diag()}`, 30_000, 100);
  let acked = false;
  pub.publish('sensors/q1/v', JSON.stringify({ value: 1 }), { qos: 1 }, () => (acked = true));
  await waitFor(() => acked, () => `a QoS 1 publish is acknowledged again:\n${diag()}`, 30_000);
  assert.equal(rt.child.exitCode, null, 'still running');
});
