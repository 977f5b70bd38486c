// gpsd's regression captures through the serial driver over a real pty pair (socat): the driver
// gives exactly the readings and drops of the decoder alone (whose conformance with gpsd is
// tested in nmea-conformance.test.ts), also with line noise before the `$`.
import { test, after } from 'node:test';
import { serialPlugin } from '../../drivers/serial/plugin.js';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../drivers/serial/index.js';
import { serialConfigSchema } from '../helpers/schemas.js';
import { NmeaDecoder } from '../../drivers/serial/nmea.js';
import { DropCounter } from '../../src/core/drops.js';
import type { Driver } from '../../src/core/driver.js';
import type { Reading } from '../../src/core/reading.js';
import { makeCtx, makeDeps, waitFor, socatPty } from './helpers.js';
import { captures } from './gpsd-conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'edgewise-nmea-'));
let socat: ChildProcess | undefined;
let driver: Driver | undefined;
after(async () => {
  await driver?.stop();
  socat?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const TODAY = Date.UTC(2026, 11, 1, 12);
/** Bytes a noisy line adds before some sentences: NUL, 0xFF (invalid UTF-8), text. */
const NOISE = Buffer.from([0x00, 0xff, 0x7e, 0x41]);

test('gpsd captures over a pty pair: the same readings and drops as the decoder alone, noise before $ resynchronised', async () => {
  const all = captures().filter((c) => c.sentences.some((s) => s.includes('*'))); // checksum: required for all
  const lines: Buffer[] = [];
  for (const [i, c] of all.entries()) {
    for (const [j, s] of c.sentences.entries()) {
      const noisy = (i + j) % 17 === 0 && s.startsWith('$');
      lines.push(Buffer.concat([noisy ? NOISE : Buffer.alloc(0), Buffer.from(s, 'latin1'), Buffer.from('\r\n')]));
    }
  }

  // the decoder alone, on the same bytes as the driver will see them
  const dec = new NmeaDecoder('gps-1');
  const want: Reading[] = [];
  const wantDrops = new DropCounter();
  for (const l of lines) dec.decode(l.subarray(0, l.length - 2).toString('utf8'), TODAY, (r) => want.push(r), wantDrops, 'serial');
  assert.ok(want.length > 10_000, `${want.length} readings`);
  assert.ok(dec.c.nmea_resync > 1000, 'noise was injected');

  const A = join(dir, 'gpsA');
  const B = join(dir, 'gpsB');
  socat = await socatPty(A, B);
  const cfg = serialConfigSchema.parse({ path: A, format: 'nmea', baud_rate: 115200, silence_timeout: 0, max_line_bytes: 4096 });
  driver = serialPlugin.create('gps-1', cfg, makeDeps());
  const ctx = makeCtx(() => TODAY);
  await driver.start(ctx);
  await waitFor(() => driver!.health().state === 'up', 'port open');
  const fh = await open(B, 'w');
  for (let i = 0; i < lines.length; i += 200) await fh.write(Buffer.concat(lines.slice(i, i + 200)));
  await fh.close();
  await waitFor(() => driver!.counters().lines === lines.length, () => `all ${lines.length} lines read (${driver!.counters().lines})`, 60_000);

  assert.deepEqual(ctx.readings, want);
  assert.deepEqual(ctx.drops.counters(), wantDrops.counters());
  const counters = driver.counters();
  for (const [k, v] of Object.entries(dec.c)) assert.equal(counters[k], v, k);
  assert.equal(ctx.drops.count('garbled'), wantDrops.count('garbled'), 'noise before $ is not garbled');
});
