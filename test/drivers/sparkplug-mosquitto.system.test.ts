/**
 * Sparkplug B input with real parts: `edgewise run` (a child process) is a client of Mosquitto
 * (started here) with `sparkplug:`; an edge node is played by mosquitto_pub sending payloads made
 * by another implementation (test/fixtures/sparkplug/umh-vectors.json); readings go upstream to
 * the same Mosquitto as JSON. The gateway starts after the node's birth: its first data by alias
 * is dropped and answered with a rebirth request, which mosquitto_sub receives; the node's birth
 * and data then arrive upstream as readings. Then both halves together: one gateway publishes its
 * readings as a Sparkplug edge node, another takes them as a host.
 * Needs `mosquitto`, `mosquitto_pub`, `mosquitto_sub`: run with `npm run test:system`.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import mqtt from 'mqtt';
import sparkplug from 'sparkplug-payload';
import { Mosquitto } from '../helpers/mosquitto.js';
import { freePort, publishAll, startRuntime, waitFor } from '../runtime/helpers.js';
import { tempDir } from '../upstream/helpers.js';

const VECTORS = JSON.parse(readFileSync(new URL('../fixtures/sparkplug/umh-vectors.json', import.meta.url), 'utf8')) as Array<{ name: string; base64: string }>;
const codec = sparkplug.get('spBv1.0')!;

function mosquittoPub(port: number, topic: string, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-q', '1', '-t', topic, '-f', file], { timeout: 15_000 }, (err, _o, stderr) => (err ? reject(new Error(`mosquitto_pub: ${stderr || err.message}`)) : resolve()));
  });
}

test('edgewise run as a Sparkplug host of Mosquitto: unknown aliases ask mosquitto_sub\'s node for a rebirth; its birth and data arrive upstream as readings', { timeout: 120_000 }, async () => {
  const tmp = tempDir('edgewise-sparkplug-in-');
  const mosq = new Mosquitto(tmp.dir, await freePort());
  await mosq.start();
  const file = (name: string) => {
    const f = join(tmp.dir, `${name}.pb`);
    writeFileSync(f, Buffer.from(VECTORS.find((v) => v.name === name)!.base64, 'base64'));
    return f;
  };
  writeFileSync(join(tmp.dir, 'raw.yaml'), 'name: raw\ninput: { streams: ["edge-1/*"] }\nsteps:\n  - output: raw\n');
  const cfg = join(tmp.dir, 'edgewise.yaml');
  const httpPort = await freePort();
  writeFileSync(
    cfg,
    [
      'gateway: { id: site-1, data_dir: data }',
      'log: { level: info }',
      `inputs:\n  - { name: plant, type: mqtt, mode: client, client: { url: "${mosq.url}", qos: 1 }, sparkplug: { groups: [line] } }`,
      'pipelines: [raw.yaml]',
      'outbox: { commit_interval: 10ms }',
      'stats_upstream: 0s',
      `http: { port: ${httpPort}, dashboard: false }`,
      `upstream: { url: "${mosq.url}" }`,
      '',
    ].join('\n'),
  );
  // The node's side of the command topic, as a C client sees it.
  const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(mosq.port), '-t', 'spBv1.0/line/NCMD/edge-1', '-C', '1', '-F', '%x'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let cmdHex = '';
  sub.stdout!.on('data', (d) => (cmdHex += d));
  const upstream = await mqtt.connectAsync(mosq.url, { clientId: 'consumer' });
  const values: Array<[string, number, number]> = [];
  upstream.on('message', (_topic, payload) => {
    const rec = JSON.parse(payload.toString()) as { kind: string; stream: string; data: { value: number; ts: number } };
    if (rec.kind === 'reading') values.push([rec.stream, rec.data.value, rec.data.ts]);
  });
  await upstream.subscribeAsync('edgewise/v1/site-1/reading/#', { qos: 1 });
  const rt = await startRuntime(cfg);
  try {
    await waitFor(() => inputUp(httpPort, 'plant'), () => `the input subscribed:\n${rt.output()}`);
    await mosquittoPub(mosq.port, 'spBv1.0/line/NDATA/edge-1', file('NDATA_BEFORE_BIRTH'));
    await waitFor(() => cmdHex.trim().length > 0, () => `the rebirth request at the node (mosquitto_sub):\n${rt.output()}`);
    const cmd = codec.decodePayload(Buffer.from(cmdHex.trim(), 'hex'));
    assert.deepEqual(cmd.metrics?.map((m) => [m.name, m.value]), [['Node Control/Rebirth', true]]);
    // the node answers with its birth, then data by alias
    await mosquittoPub(mosq.port, 'spBv1.0/line/NBIRTH/edge-1', file('NBIRTH_V1'));
    await mosquittoPub(mosq.port, 'spBv1.0/line/NDATA/edge-1', file('NDATA_V1'));
    await waitFor(() => values.length === 2, () => `two readings upstream (${JSON.stringify(values)}):\n${rt.output()}`);
    const ts = Number(codec.decodePayload(Buffer.from(VECTORS.find((v) => v.name === 'NBIRTH_V1')!.base64, 'base64')).timestamp);
    assert.deepEqual(values, [
      ['edge-1/Temperature', 21.5, ts],
      ['edge-1/Temperature', 22.5, ts],
    ]);
  } finally {
    rt.child.kill('SIGTERM');
    await rt.exited;
    sub.kill();
    await upstream.endAsync(true);
    await mosq.stop();
    tmp.cleanup();
  }
});

async function inputUp(httpPort: number, input: string): Promise<boolean> {
  try {
    const status = (await (await fetch(`http://127.0.0.1:${httpPort}/api/status`)).json()) as { ready: { checks: Record<string, { ok: boolean }> } };
    return status.ready.checks[`input:${input}`]?.ok === true;
  } catch {
    return false;
  }
}

test('Sparkplug both ways through Mosquitto: gateway A publishes its readings as an edge node, gateway B takes them as a host, each once; B restarted asks A for a rebirth and takes every reading after it', { timeout: 180_000 }, async () => {
  const tmp = tempDir('edgewise-sparkplug-both-');
  const mosq = new Mosquitto(tmp.dir, await freePort());
  await mosq.start();
  const inputA = await freePort();
  const httpB = await freePort();
  writeFileSync(join(tmp.dir, 'a.yaml'), 'name: a\ninput: { streams: ["*/temp"] }\nsteps:\n  - output: raw\n');
  writeFileSync(join(tmp.dir, 'b.yaml'), 'name: b\ninput: { streams: ["van-17.*/*"] }\nsteps:\n  - output: raw\n');
  const cfgA = join(tmp.dir, 'gw-a.yaml');
  writeFileSync(
    cfgA,
    [
      'gateway: { id: van-17, data_dir: data-a }',
      `inputs:\n  - { name: local, type: mqtt, broker: { port: ${inputA} } }`,
      'pipelines: [a.yaml]',
      'outbox: { commit_interval: 10ms }',
      'stats_upstream: 0s',
      `upstream: { url: "${mosq.url}", format: sparkplug_b, sparkplug: { group_id: plant }, reconnect_min: 100ms, reconnect_max: 1s }`,
      '',
    ].join('\n'),
  );
  const cfgB = join(tmp.dir, 'gw-b.yaml');
  writeFileSync(
    cfgB,
    [
      'gateway: { id: site-1, data_dir: data-b }',
      `inputs:\n  - { name: plant, type: mqtt, mode: client, client: { url: "${mosq.url}", qos: 1 }, sparkplug: { groups: [plant] } }`,
      'pipelines: [b.yaml]',
      'outbox: { commit_interval: 10ms }',
      'stats_upstream: 0s',
      `http: { port: ${httpB}, dashboard: false }`,
      `upstream: { url: "${mosq.url}" }`,
      '',
    ].join('\n'),
  );
  const got: Array<[string, number, number]> = [];
  const consumer = await mqtt.connectAsync(mosq.url, { clientId: 'consumer' });
  consumer.on('message', (_t, payload) => {
    const rec = JSON.parse(payload.toString()) as { kind: string; stream: string; data: { value: number; ts: number } };
    if (rec.kind === 'reading') got.push([rec.stream, rec.data.value, rec.data.ts]);
  });
  await consumer.subscribeAsync('edgewise/v1/site-1/reading/#', { qos: 1 });
  const t0 = Date.now() - 600_000;
  const reading = (k: number) => ({ stream: `van-17.m${k % 3}/temp`, value: 20 + (k % 7) / 4, ts: t0 + k * 1000 });
  const publish = (from: number, to: number) =>
    publishAll(
      `mqtt://127.0.0.1:${inputA}`,
      Array.from({ length: to - from }, (_, i) => {
        const r = reading(from + i);
        return { topic: `sensors/m${(from + i) % 3}/temp`, payload: JSON.stringify({ value: r.value, ts: r.ts }) };
      }),
    );
  const inRange = (from: number, to: number) => got.filter(([, , ts]) => ts >= t0 + from * 1000 && ts < t0 + to * 1000);
  const sorted = (xs: Array<[string, number, number]>) => [...xs].sort((a, b) => a[2] - b[2]);
  const expected = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => reading(from + i)).map((r) => [r.stream, r.value, r.ts]);

  let b = await startRuntime(cfgB);
  let a: Awaited<ReturnType<typeof startRuntime>> | undefined;
  try {
    await waitFor(() => inputUp(httpB, 'plant'), () => `B subscribed:\n${b.output()}`);
    a = await startRuntime(cfgA);
    await publish(0, 30);
    await waitFor(() => inRange(0, 30).length >= 30, () => `30 readings through A and B (${got.length}):\nA:\n${a!.output()}\nB:\n${b.output()}`);
    assert.deepEqual(sorted(inRange(0, 30)), expected(0, 30), 'every reading once, with its value and time');

    // B dies and comes back knowing no alias: A's next data is unreadable to it until A is reborn.
    b.child.kill('SIGKILL');
    await b.exited;
    b = await startRuntime(cfgB);
    await waitFor(() => inputUp(httpB, 'plant'), () => `B subscribed again:\n${b.output()}`);
    await publish(30, 33);
    await waitFor(() => a!.output().includes('rebirth requested'), () => `A asked for a rebirth by B:\nA:\n${a!.output()}\nB:\n${b.output()}`);
    await publish(33, 63);
    await waitFor(() => inRange(33, 63).length >= 30, () => `the 30 readings after the rebirth (${inRange(33, 63).length}):\nB:\n${b.output()}`);
    assert.deepEqual(sorted(inRange(33, 63)), expected(33, 63), 'every reading after the rebirth, once');
    const status = (await (await fetch(`http://127.0.0.1:${httpB}/api/status`)).json()) as { dropped: Record<string, number> };
    assert.ok(JSON.stringify(status.dropped).includes('unknown_alias'), `B counted the data it could not read: ${JSON.stringify(status.dropped)}`);
  } finally {
    for (const rt of [a, b]) {
      if (!rt) continue;
      rt.child.kill('SIGTERM');
      await rt.exited;
    }
    await consumer.endAsync(true);
    await mosq.stop();
    tmp.cleanup();
  }
});
