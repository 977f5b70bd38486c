/**
 * A gateway whose whole process runs 3 days behind (libfaketime: a Raspberry Pi without a
 * real-time clock, before NTP), five devices with correct clocks publishing to its embedded
 * broker: their readings are accepted once the gateway has heard them agree, and when the clock
 * is set right (libfaketime's offset file changed: a real step of the wall clock, as NTP makes)
 * the correction goes back to 0 with no reading refused. Needs libfaketime (Debian: faketime).
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import type net from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { tempDir } from '../upstream/helpers.js';
import { freePort, startRuntime, waitFor } from './helpers.js';

const LIB = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1'].find((f) => existsSync(f));

test('a gateway 3 days behind its devices (libfaketime) accepts their readings once they agree, and follows NTP setting its clock right', { skip: LIB ? false : 'needs libfaketime (apt-get install faketime)', timeout: 120_000 }, async (t) => {
  const { dir, cleanup } = tempDir('edgewise-clock-');
  t.after(cleanup);
  const clockFile = join(dir, 'clock');
  writeFileSync(clockFile, '-3d\n');
  const inputPort = await freePort();
  const httpPort = await freePort();
  writeFileSync(join(dir, 'raw.yaml'), JSON.stringify({ name: 'raw', input: { streams: ['*/*'] }, steps: [{ output: 'raw' }] }));
  writeFileSync(
    join(dir, 'edgewise.yaml'),
    `gateway: { id: gw-clock, data_dir: data }
inputs:
  - { name: local, type: mqtt, broker: { port: ${inputPort} } }
pipelines: [raw.yaml]
http: { port: ${httpPort} }
`,
  );
  const rt = await startRuntime(join(dir, 'edgewise.yaml'), { LD_PRELOAD: LIB, FAKETIME_TIMESTAMP_FILE: clockFile, FAKETIME_CACHE_DURATION: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' });
  t.after(async () => {
    rt.child.kill('SIGKILL');
    await rt.exited;
  });
  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line === undefined ? 0 : Number(line.split(' ').at(-1));
  };
  const future = () => metric('edgewise_pipeline_dropped_total{pipeline="raw",reason="future"}');
  const accepted = () => metric('edgewise_pipeline_accepted_total');

  const pub = mqtt.connect(`mqtt://127.0.0.1:${inputPort}`, { clientId: 'devices' });
  pub.on('connect', () => (pub.stream as net.Socket).setNoDelay?.(true));
  t.after(() => pub.end(true));
  await waitFor(() => pub.connected, 'the publisher to connect');
  let n = 0;
  const send = setInterval(() => {
    for (let d = 0; d < 5; d++) pub.publish(`sensors/m${d}/temp`, JSON.stringify({ value: n++, ts: Date.now() }));
  }, 50);
  t.after(() => clearInterval(send));

  await waitFor(async () => (await metric('edgewise_gateway_clock_correction_seconds')) > 2 * 86_400, () => `the correction:\n${rt.output().slice(-2000)}`, 30_000);
  const refused = await future();
  assert.ok(refused > 0, 'refused as future before the devices were heard agreeing');
  const a0 = await accepted();
  await waitFor(async () => (await accepted()) >= a0 + 100, 'readings accepted');
  assert.equal(await future(), refused, 'none refused once corrected');
  assert.ok(rt.output().includes('clock: the gateway clock is'), 'a warn line says the gateway clock is off');

  // NTP sets the clock right: a real step of the wall clock, 3 days forward.
  writeFileSync(clockFile, '+0\n');
  await waitFor(async () => (await metric('edgewise_gateway_clock_correction_seconds')) === 0, () => `the correction back to 0:\n${rt.output().slice(-2000)}`, 30_000);
  const a1 = await accepted();
  await waitFor(async () => (await accepted()) >= a1 + 100, 'readings still accepted');
  assert.equal(await future(), refused, 'none refused across the step');
  assert.ok(rt.output().includes('agrees with its devices again'));
});
