/**
 * `edgewise run` with its data directory on a 4 MiB tmpfs that fills up while readings flow (QoS 0
 * and QoS 1 into the embedded broker, raw forwarding, the uplink down): the ingest journal cannot
 * commit. It must not try at every reading nor log every try, must hold a bounded number of
 * entries (dropping, counted, only what no acknowledgement waits for), must withhold the QoS 1
 * PUBACK until the reading is durable, and must recover by itself when space returns.
 */
import assert from 'node:assert/strict';
import type net from 'node:net';
import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { fill, mountTmpfs } from '../helpers/tmpfs.js';
import { freePort, startRuntime, waitFor } from './helpers.js';

const mounted = mountTmpfs('4m');

test('a full disk under the ingest journal: bounded retries, one error line, bounded memory, QoS 1 acknowledged only once durable, recovery by itself', { skip: typeof mounted === 'string' ? mounted : false, timeout: 180_000 }, async (t) => {
  const m = mounted as { dir: string; unmount: () => void };
  const stops: Array<() => unknown> = [];
  t.after(async () => {
    for (const stop of stops.reverse()) await stop();
    m.unmount();
  });
  const inputPort = await freePort();
  const httpPort = await freePort();
  const cfg = join(m.dir, 'edgewise.yaml');
  writeFileSync(join(m.dir, 'raw.yaml'), JSON.stringify({ name: 'raw', input: { streams: ['*/*'] }, steps: [{ output: 'raw' }] }));
  writeFileSync(
    cfg,
    `gateway: { id: gw-full, data_dir: data }
inputs:
  - { name: local, type: mqtt, broker: { port: ${inputPort} } }
pipelines: [raw.yaml]
upstream: { url: "mqtt://127.0.0.1:${await freePort()}", reconnect_min: 1s, reconnect_max: 2s }
http: { port: ${httpPort} }
`,
  );
  const rt = await startRuntime(cfg);
  stops.push(async () => {
    rt.child.kill('SIGKILL');
    await rt.exited;
  });
  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? Number.NaN : Number(line.split(' ')[1]);
  };
  const pub = mqtt.connect(`mqtt://127.0.0.1:${inputPort}`, { clientId: 'dev', reconnectPeriod: 200 });
  pub.on('connect', () => (pub.stream as net.Socket).setNoDelay?.(true));
  stops.push(() => pub.end(true));
  await waitFor(() => pub.connected, 'the publisher to connect');

  let sent = 0;
  const burst = (n: number) => {
    for (let i = 0; i < n; i++) pub.publish(`sensors/d${sent % 20}/v`, JSON.stringify({ value: sent++ }), { qos: 0 });
  };
  burst(500);
  await waitFor(async () => (await metric('edgewise_state_journal_commits_total')) > 0, 'the journal commits');

  // The disk fills up. Then 30,000 QoS 0 readings (more than the 20,000 the journal holds) and one QoS 1.
  const ballast = fill(m.dir, 0);
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
  unlinkSync(ballast);
  await waitFor(() => acked, () => `the QoS 1 publish acknowledged once space returned:\n${rt.output().slice(-3000)}`, 60_000);
  await waitFor(() => rt.output().includes('ingest journal: commits succeed again'), 'the recovery line');
  const dropped = await metric('edgewise_state_journal_dropped_total');
  assert.ok(dropped >= 30_000 - 20_000 && dropped < sent, `dropped ${dropped} of ${sent}`);
  assert.equal(rt.child.exitCode, null, 'still running');
});
