import { test, after } from 'node:test';
import { serialPlugin } from '../../drivers/serial/plugin.js';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, openSync, writeSync, closeSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SerialConfig } from '../../drivers/serial/index.js';
import { serialConfigSchema } from '../helpers/schemas.js';
import type { Driver } from '../../src/core/driver.js';
import { makeCtx, makeDeps, waitFor, byStream, socatPty, counter } from './helpers.js';
import { RMC, GGA, VTG, nmea } from './nmea-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'edgewise-serial-'));
const children = new Set<ChildProcess>();
const drivers: Driver[] = [];
after(async () => {
  for (const d of drivers) await d.stop();
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** A pty pair: the driver opens `a`, the test writes to `b`. */
async function ptyPair(a: string, b: string): Promise<ChildProcess> {
  const child = await socatPty(a, b);
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

function writer(path: string): { write(s: string): void; close(): void } {
  const fd = openSync(path, 'w');
  return {
    write: (s) => void writeSync(fd, s),
    close: () => closeSync(fd),
  };
}

async function startSerial(raw: Record<string, unknown>) {
  const cfg = serialConfigSchema.parse(raw) as SerialConfig;
  const driver = serialPlugin.create('gps-1', cfg, makeDeps());
  drivers.push(driver);
  const ctx = makeCtx();
  await driver.start(ctx);
  return { driver, ctx };
}

async function killAndWait(c: ChildProcess): Promise<void> {
  const exited = new Promise((r) => c.once('exit', r));
  c.kill('SIGKILL');
  await exited;
}

test('NMEA over a real pty pair; unplug (kill socat) and replug are survived', async () => {
  const A = join(dir, 'gpsA');
  const B = join(dir, 'gpsB');
  let socat = await ptyPair(A, B);
  // silence_timeout as deployed: when socat dies, the pty may be hung up before serialport's read
  // sees EIO; reads then return 0 bytes for ever and no 'close' comes. The watchdog is the backstop.
  const { driver, ctx } = await startSerial({ path: A, format: 'nmea', baud_rate: 9600, reconnect_min: 100, reconnect_max: 1000, silence_timeout: 2000 });
  await waitFor(() => driver.health().state === 'up', 'port open');
  let w = writer(B);
  w.write(`${RMC}\r\n${GGA}\r\n${VTG}\r\n`);
  w.write(`${RMC.slice(0, -2)}00\r\n`); // bad checksum
  w.write(`\x00\x13\xff\xfegarbage\r\n`); // line noise
  w.write(`$GPGGA,${'9'.repeat(2000)}\r\n`); // over-long
  await waitFor(() => byStream(ctx.readings, 'gps-1/altitude_m').length === 1 && ctx.drops.total() >= 3, 'NMEA readings and drops');
  assert.ok(Math.abs(byStream(ctx.readings, 'gps-1/lat')[0]!.value - 48.1173) < 1e-4);
  assert.equal(byStream(ctx.readings, 'gps-1/satellites')[0]!.value, 8);
  assert.equal(ctx.drops.count('bad_checksum'), 1);
  assert.equal(ctx.drops.count('garbled'), 1);
  assert.equal(ctx.drops.count('too_long'), 1);

  // Unplug: the device node goes first, then the port closes under the driver. (socat killed with
  // SIGKILL leaves its links dangling at a /dev/pts number that another process may take next;
  // the driver's retries would then open that stranger's pty.)
  w.close();
  unlinkSync(A);
  unlinkSync(B);
  await killAndWait(socat);
  await waitFor(() => driver.health().state === 'down' && counter(driver.counters(), 'open_failures') >= 1, 'driver notices the port went away and fails to reopen it');
  const c = driver.counters();
  assert.ok(counter(c, 'disconnects') + counter(c, 'silence_reopens') >= 1, `the unplug was noticed: ${JSON.stringify(c)}`);
  assert.match(driver.health().detail ?? '', /retrying in/);

  // replug on the same link paths
  const opens = counter(driver.counters(), 'opens');
  socat = await ptyPair(A, B);
  await waitFor(() => driver.health().state === 'up' && counter(driver.counters(), 'opens') > opens, 'driver reopens the port');
  w = writer(B);
  const later = nmea('GPRMC,123520.00,A,4807.040,N,01131.002,E,010.0,090.0,010324,003.1,W');
  w.write(`${later}\r\n`);
  await waitFor(() => byStream(ctx.readings, 'gps-1/speed_kmh').length === 2, 'readings after replug');
  assert.equal(byStream(ctx.readings, 'gps-1/speed_kmh')[1]!.value, 18.52);
  w.close();
  await driver.stop();
  assert.equal(driver.health().state, 'stopped');
});

test('CSV over a pty; a silent port is reported and reopened by the watchdog', async () => {
  const A = join(dir, 'csvA');
  const B = join(dir, 'csvB');
  await ptyPair(A, B);
  const { driver, ctx } = await startSerial({
    path: A,
    format: 'csv',
    csv: { columns: ['ts', 'temp', 'hum'] },
    baud_rate: 115200,
    // Long enough that the port is not reopened again between 'up' and the write below on a loaded
    // machine (the bytes would reach a closed port and be lost).
    silence_timeout: 1000,
    reconnect_min: 50,
  });
  await waitFor(() => counter(driver.counters(), 'silence_reopens') >= 1, 'watchdog reopens the silent port');
  await waitFor(() => driver.health().state === 'up', 'port open again');
  const w = writer(B);
  w.write('1700000000000,21.5,40\n1700000001000,21.6\n');
  await waitFor(() => ctx.readings.length === 2 && ctx.drops.count('wrong_columns') === 1, 'csv readings');
  assert.deepEqual(ctx.readings[0], { stream: 'gps-1/temp', ts: 1_700_000_000_000, value: 21.5 });
  w.close();
});

test('the silence watchdog runs on the monotonic clock: a wall clock stepped back an hour (NTP on a gateway without RTC) does not hide a silent port', async () => {
  const A = join(dir, 'stepA');
  const B = join(dir, 'stepB');
  await ptyPair(A, B);
  const { driver } = await startSerial({ path: A, format: 'kv', silence_timeout: 1000, reconnect_min: 50 });
  await waitFor(() => driver.health().state === 'up', 'port open');
  const wallNow = Date.now;
  const back = wallNow() - 3_600_000;
  const started = wallNow();
  Date.now = () => back + (wallNow() - started);
  try {
    // Before: silence was Date.now() − the last byte's Date.now(), negative for an hour.
    await waitFor(() => counter(driver.counters(), 'silence_reopens') >= 1, 'the watchdog reopens the silent port with the wall clock an hour back', 15_000);
  } finally {
    Date.now = wallNow;
  }
});

test('a port that does not exist yet is retried until it appears', async () => {
  const A = join(dir, 'lateA');
  const B = join(dir, 'lateB');
  const { driver, ctx } = await startSerial({ path: A, format: 'kv', reconnect_min: 50, reconnect_max: 200, silence_timeout: 0 });
  await waitFor(() => counter(driver.counters(), 'open_failures') >= 2, 'open retried');
  assert.equal(driver.health().state, 'down');
  assert.match(driver.health().detail!, /cannot open .*lateA/);
  await ptyPair(A, B);
  await waitFor(() => driver.health().state === 'up', 'port opened once it appeared');
  const w = writer(B);
  w.write('temp=19.5 rpm=1200\n');
  await waitFor(() => ctx.readings.length === 2, 'kv readings');
  w.close();
});
