import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNmeaSentence } from 'nmea-simple';
import { GpioTransport, nmeaChecksum, nmeaSentences, parseDomains, Rng, Simulation, Vehicle, writeDataset, type Sample } from '../../firmware-sim/index.js';
import { NmeaDecoder } from '../../drivers/serial/nmea.js';
import { KvDecoder } from '../../drivers/serial/formats.js';
import { kvLine } from '../../firmware-sim/transports/serial.js';
import { SimulatedGpio } from '../../drivers/gpio/simulated.js';
import { loadWindows } from '../../src/backtest/labels.js';
import { readRecorded } from '../../src/replay/input.js';
import { DropCounter } from '../../src/core/drops.js';
import type { Reading } from '../../src/core/reading.js';

const START = Date.UTC(2024, 0, 1, 8);

function collect(sim: Simulation, to = sim.ticks): string[] {
  const lines: string[] = [];
  sim.run(0, to, (s) => lines.push(`${s.device.id} ${s.t} ${Array.from(s.values).join(',')}`));
  return lines;
}

test('same seed, same readings; another seed, other readings', () => {
  const opts = { domains: parseDomains('all'), devices: 2, rateHz: 2, seed: 42, start: START, durationMs: 20 * 60_000 };
  const a = collect(new Simulation(opts));
  const b = collect(new Simulation(opts));
  assert.equal(a.length, 3 * 2 * 2 * 1200);
  assert.deepEqual(a, b);
  assert.deepEqual(new Simulation(opts).faults(), new Simulation(opts).faults());
  const c = collect(new Simulation({ ...opts, seed: 43 }));
  assert.notDeepEqual(a, c);
  // running in pieces gives the same as one go (live batches vs a data set)
  const sim = new Simulation(opts);
  const pieces: string[] = [];
  for (let k = 0; k < sim.ticks; ) k = sim.run(k, k + 7, (s) => pieces.push(`${s.device.id} ${s.t} ${Array.from(s.values).join(',')}`));
  assert.deepEqual(pieces, a);
});

test('ticks already produced are refused with a clear error, not produced again as garbage (the models stepped back in time: a current of Infinity)', () => {
  const opts = { domains: parseDomains('maintenance'), devices: 1, rateHz: 1, seed: 3, start: START, durationMs: 15 * 60_000, duty: { kind: 'cycle' as const, runMs: 240_000, periodMs: 420_000 } };
  const sim = new Simulation(opts);
  sim.run(0, sim.ticks, () => {});
  assert.throws(() => sim.run(0, sim.ticks, () => {}), /Simulation\.run: tick 0 comes before tick 900, the next one: the devices have already moved past it; make a new Simulation/);
  // skipping ahead is allowed, and a new Simulation gives the same readings again, all finite
  const again = collect(new Simulation(opts));
  assert.deepEqual(again, collect(new Simulation(opts)));
  assert.ok(again.every((line) => !/Infinity|e\+\d{2}/.test(line)), 'no Infinity, no huge value');
});

test('Rng: uniform in [0,1), Gaussian with mean 0 and sd 1', () => {
  const r = new Rng(7);
  let s = 0, s2 = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const u = r.next();
    assert.ok(u >= 0 && u < 1);
    const g = r.gauss();
    s += g;
    s2 += g * g;
  }
  assert.ok(Math.abs(s / n) < 0.05);
  assert.ok(Math.abs(s2 / n - 1) < 0.05);
});

test('every fault type is injected with ground truth, inside the run, after the clean start', () => {
  const sim = new Simulation({ domains: parseDomains('all'), devices: 1, rateHz: 1, seed: 3, start: START, durationMs: 3_600_000 });
  const f = sim.faults();
  const kinds = f.map((e) => `${e.domain}:${e.fault}:${e.kind}`).sort();
  assert.deepEqual(kinds, [
    'maintenance:bearing_wear:fault', 'maintenance:dropout:fault', 'maintenance:imbalance:fault', 'maintenance:overheating:fault', 'maintenance:stuck_sensor:fault',
    'telematics:engine_overheating:fault', 'telematics:gps_loss:fault', 'telematics:harsh_acceleration:fault', 'telematics:harsh_braking:fault', 'telematics:overspeed:fault',
    'vitals:hypoxia:fault', 'vitals:probe_off:artefact', 'vitals:sepsis:fault', 'vitals:tachycardia:fault',
  ]);
  for (const e of f) {
    assert.ok(e.start >= START + 0.2 * 3_600_000 && e.end <= START + 3_600_000 && e.end > e.start, `${e.fault} inside the run`);
    assert.ok(e.streams.every((s) => s.startsWith(`${e.device}/`)));
  }
  assert.equal(new Simulation({ domains: parseDomains('all'), devices: 1, rateHz: 1, seed: 3, start: START, durationMs: 3_600_000, faults: false }).faults().length, 0);
});

test('faults show in the signals: probe-off is SpO2 0, dropout is silence, harsh braking is < -5 m/s², bearing wear raises kurtosis', () => {
  const sim = new Simulation({ domains: parseDomains('all'), devices: 1, rateHz: 1, seed: 5, start: START, durationMs: 3_600_000 });
  const faults = sim.faults();
  const seen: Record<string, number[]> = {};
  const at = (e: (typeof faults)[number], metric: string, pred: (v: number) => boolean) => `${e.fault}/${metric}/${pred}`;
  const checks = [
    { fault: 'probe_off', metric: 'spo2', ok: (v: number) => v === 0, all: true },
    { fault: 'dropout', metric: 'vibration_rms', ok: (v: number) => Number.isNaN(v), all: true },
    { fault: 'gps_loss', metric: 'fix_quality', ok: (v: number) => v === 0, all: true },
    { fault: 'harsh_braking', metric: 'accel_ms2', ok: (v: number) => v < -4.5, all: false },
    { fault: 'harsh_acceleration', metric: 'accel_ms2', ok: (v: number) => v > 3.3, all: false },
    { fault: 'overspeed', metric: 'speed_kmh', ok: (v: number) => v > 130, all: false },
    { fault: 'tachycardia', metric: 'heart_rate', ok: (v: number) => v > 140, all: false },
    { fault: 'bearing_wear', metric: 'vibration_kurtosis', ok: (v: number) => v > 6, all: false },
  ];
  sim.run(0, sim.ticks, (s) => {
    for (const c of checks) {
      const e = faults.find((x) => x.device === s.device.id && x.fault === c.fault);
      if (!e || s.t < e.start || s.t >= e.end) continue;
      const v = s.values[s.device.metrics.indexOf(c.metric)]!;
      (seen[at(e, c.metric, c.ok)] ??= []).push(c.ok(v) ? 1 : 0);
    }
  });
  for (const c of checks) {
    const e = faults.find((x) => x.fault === c.fault)!;
    const hits = seen[at(e, c.metric, c.ok)] ?? [];
    assert.ok(hits.length > 0, `${c.fault}: samples inside the window`);
    if (c.all) assert.ok(hits.every((h) => h === 1), `${c.fault}: every sample of ${c.metric}`);
    else assert.ok(hits.some((h) => h === 1), `${c.fault}: some sample of ${c.metric}`);
  }
});

test('NMEA: checksums right, nmea-simple parses them, the serial driver decodes position, and no fix in a tunnel', () => {
  const fix = { t: Date.UTC(2024, 0, 1, 8, 30, 15, 250), fix: true, lat: 51.4567891, lon: -0.9712345, altitudeM: 61.2, speedKmh: 48.3, courseDeg: 93.4, satellites: 9, hdop: 0.9 };
  const lines = nmeaSentences(fix);
  assert.equal(lines.length, 3);
  for (const l of lines) {
    const star = l.indexOf('*');
    assert.equal(l.slice(star + 1), nmeaChecksum(l.slice(1, star)));
    parseNmeaSentence(l);
  }
  const dec = new NmeaDecoder('van-1');
  const out: Reading[] = [];
  const drops = new DropCounter();
  for (const l of lines) dec.decode(l, fix.t, (r) => out.push(r), drops, 'pty');
  assert.equal(drops.total(), 0);
  const get = (m: string) => out.find((r) => r.stream === `van-1/${m}`)!;
  assert.ok(Math.abs(get('lat').value - fix.lat) < 1e-5);
  assert.ok(Math.abs(get('lon').value - fix.lon) < 1e-5);
  assert.ok(Math.abs(get('speed_kmh').value - fix.speedKmh) < 0.05);
  assert.equal(get('lat').ts, fix.t);
  const none: Reading[] = [];
  for (const l of nmeaSentences({ ...fix, fix: false })) dec.decode(l, fix.t, (r) => none.push(r), drops, 'pty');
  assert.equal(drops.total(), 0);
  assert.ok(!none.some((r) => r.stream.endsWith('/lat')));
  assert.ok(dec.noFix >= 1);
  // a moving van gives sentences each second that parse
  const van = new Vehicle('van-9', 9, START, START + 600_000, true);
  const buf = new Float64Array(van.metrics.length);
  for (let i = 0; i < 120; i++) {
    van.sample(START + i * 1000, buf);
    for (const l of van.nmea(START + i * 1000)) dec.decode(l, START, () => {}, drops, 'pty');
  }
  assert.equal(drops.total(), 0);
});

test('kv serial lines are what the serial driver reads', () => {
  const sim = new Simulation({ domains: parseDomains('maintenance'), devices: 1, rateHz: 1, seed: 1, start: START, durationMs: 5000 });
  const dec = new KvDecoder('x', { ts_unit: 'ms', max_fields: 32 });
  const out: Reading[] = [];
  const drops = new DropCounter();
  let first: Sample | undefined;
  sim.run(0, 1, (s) => {
    first = { ...s, values: s.values.slice() };
    dec.decode(kvLine(s).trim(), 0, (r) => out.push(r), drops, 'pty');
  });
  assert.equal(drops.total(), 0);
  assert.equal(out.length, 6);
  assert.equal(out[0]!.stream, 'pump-1/vibration_rms');
  assert.equal(out[0]!.ts, START);
  assert.equal(out[0]!.value, first!.values[0]);
});

test('a data set: one CSV per device that replay reads, labels that backtest loads, fault lines', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-ds-'));
  try {
    const sim = new Simulation({ domains: parseDomains('all'), devices: 1, rateHz: 1, seed: 11, start: START, durationMs: 30 * 60_000 });
    const s = writeDataset(sim, dir);
    assert.equal(s.files.length, 3);
    const labels = loadWindows(s.labels);
    assert.deepEqual([...labels.keys()].sort(), ['maintenance/pump-1.csv', 'telematics/van-1.csv', 'vitals/bed-1.csv']);
    const faultLines = readFileSync(s.faults, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(faultLines.length, sim.faults().length);
    // artefacts have no window: vitals has 4 events, 3 windows
    assert.equal(labels.get('vitals/bed-1.csv')!.length, faultLines.filter((f) => f.domain === 'vitals' && f.kind === 'fault').length);
    assert.equal(labels.get('vitals/bed-1.csv')!.length, 3);
    for (const f of faultLines) {
      assert.deepEqual(Object.keys(f), ['device', 'domain', 'streams', 'fault', 'kind', 'start', 'end', 'start_ms', 'end_ms']);
      if (f.kind === 'fault') {
        const w = labels.get(`${f.domain}/${f.device}.csv`)!.find(([a]) => a === f.start_ms);
        assert.ok(w && w[1] > f.end_ms, `${f.fault}: a window from its start past its end`);
      }
    }
    const drops = new DropCounter();
    let rows = 0;
    const streams = new Set<string>();
    for await (const row of readRecorded(join(dir, 'data', 'vitals', 'bed-1.csv'), { drops })) {
      rows++;
      for (const r of row.readings) streams.add(r.stream);
      assert.ok(Number.isFinite(row.ts));
    }
    assert.equal(rows, 1800);
    assert.equal(drops.total(), 0);
    assert.deepEqual([...streams].sort(), ['bed-1/consciousness', 'bed-1/heart_rate', 'bed-1/on_oxygen', 'bed-1/resp_rate', 'bed-1/spo2', 'bed-1/systolic_bp', 'bed-1/temperature']);
    // byte for byte again
    const dir2 = mkdtempSync(join(tmpdir(), 'sim-ds-'));
    try {
      writeDataset(new Simulation({ ...sim.opts }), dir2);
      for (const k of ['data/maintenance/pump-1.csv', 'data/vitals/bed-1.csv', 'data/telematics/van-1.csv', 'labels/combined_windows.json', 'labels/faults.jsonl']) {
        assert.equal(readFileSync(join(dir2, k), 'utf8'), readFileSync(join(dir, k), 'utf8'), k);
      }
    } finally {
      rmSync(dir2, { recursive: true, force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('GPIO: pump speed as pulses and a running level on the simulated GPIO header', () => {
  let clock = START;
  const gpio = new SimulatedGpio(() => clock);
  let pulses = 0;
  const levels: number[] = [];
  void gpio.input(17, (level) => { if (level === 1) pulses++; });
  void gpio.input(27, (level) => levels.push(level));
  const t = new GpioTransport(gpio, [{ device: 'pump-1', metric: 'speed_rpm', bcm: 17, scale: 1 / 60 }], [{ device: 'pump-1', metric: 'current_a', bcm: 27, threshold: 1 }]);
  const sim = new Simulation({ domains: parseDomains('maintenance'), devices: 1, rateHz: 10, seed: 2, start: START, durationMs: 60_000, faults: false });
  sim.run(0, sim.ticks, (s) => {
    clock = s.t;
    t.write(s);
  });
  // ~1460 rpm for 60 s (less the first tick) ≈ 24 pulses/s
  assert.ok(pulses > 60 * 23 && pulses < 60 * 25, `pulses ${pulses}`);
  assert.equal(t.pulses, pulses);
  assert.deepEqual(levels, [1]);
});

test('bad options are refused with a clear error', () => {
  assert.throws(() => new Simulation({ domains: ['vitals'], devices: 0, rateHz: 1, seed: 1, start: START, durationMs: 1000 }), /devices 0/);
  assert.throws(() => new Simulation({ domains: ['vitals'], devices: 1, rateHz: 5000, seed: 1, start: START, durationMs: 1000 }), /rate 5000 Hz/);
  assert.throws(() => parseDomains('ships'), /"ships" is not one of/);
});
