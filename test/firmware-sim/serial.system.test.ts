import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { runLive, SerialTransport, Simulation } from '../../firmware-sim/index.js';
import { waitFor } from '../drivers/helpers.js';

test('serial: kv lines and a van\'s NMEA through real pty pairs (socat)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-pty-'));
  const link = join(dir, 'ttySIM');
  const sim = new Simulation({ domains: ['maintenance', 'telematics'], devices: 1, rateHz: 2, seed: 4, start: Date.UTC(2024, 0, 1), durationMs: 10_000 });
  const t = await SerialTransport.open(link, ['van-1']);
  const ports: SerialPort[] = [];
  try {
    let kv = '';
    let nmea = '';
    const open = (path: string, onData: (s: string) => void) =>
      new Promise<void>((resolve, reject) => {
        const p = new SerialPort({ path, baudRate: 115200 }, (err) => (err ? reject(err) : resolve()));
        p.on('data', (b: Buffer) => onData(b.toString()));
        ports.push(p);
      });
    await open(link, (s) => (kv += s));
    await open(t.gpsPaths()['van-1']!, (s) => (nmea += s));
    await runLive(sim, [t], { realTime: false });
    t.flush();
    await waitFor(() => kv.split('\n').length > 40 && nmea.includes('$GPVTG'), 'lines on both ptys');
    const first = kv.split('\n')[0]!;
    assert.match(first, /^device=pump-1 ts=1704067200000 vibration_rms=[\d.]+ /);
    assert.match(nmea, /\$GPGGA,000000\.00,\d{4}\.\d{4},N,\d{5}\.\d{4},[EW],1,/);
  } finally {
    for (const p of ports) await new Promise((r) => p.close(r));
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
