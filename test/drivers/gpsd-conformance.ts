/**
 * Compares the NMEA decoder with gpsd's expected output for gpsd's regression captures
 * (test/fixtures/gpsd: `<name>.log` as recorded, `<name>.log.tpv` the TPV lines of gpsd's
 * `<name>.log.chk`). A gpsd fix is a distinct (time, lat, lon) of a TPV with mode 2 or 3; it
 * is matched when we emitted lat and lon at that time within 1e-6°, and speed within 0.01 m/s
 * where gpsd and we both have one. gpsd fixes without a time (it had no date) match on
 * position alone.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DropCounter } from '../../src/core/drops.js';
import { NmeaDecoder } from '../../drivers/serial/nmea.js';

export const FIXTURES = new URL('../fixtures/gpsd/', import.meta.url).pathname;

export interface GpsdFix {
  time?: number;
  lat: number;
  lon: number;
  /** m/s */
  speed?: number;
}

export interface Capture {
  name: string;
  sentences: string[];
  fixes: GpsdFix[];
  /** The capture's own date: gpsd's first time, else the log header's Date. */
  date: number;
  /** gpsd fixes whose date gpsd moved by 1024 weeks (compared at the receiver's date). */
  gpsdRolled: number;
}

const YEAR = 365.25 * 86_400_000;
const ROLLOVER = 1024 * 7 * 86_400_000;

export function captures(dir = FIXTURES): Capture[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort()
    .map((f) => loadCapture(dir, f));
}

export function loadCapture(dir: string, file: string): Capture {
  const log = readFileSync(join(dir, file), 'latin1').split('\n');
  const sentences = log.map((l) => l.replace(/\r$/, '')).filter((l) => l.length > 0 && !l.startsWith('#'));
  const header = log.find((l) => /^# Date\s*[:=]/.test(l));
  const groups = new Map<string, GpsdFix>();
  for (const l of readFileSync(join(dir, `${file}.tpv`), 'utf8').split('\n')) {
    if (!l) continue;
    const t = JSON.parse(l) as { mode?: number; time?: string; lat?: number; lon?: number; speed?: number };
    if ((t.mode ?? 0) < 2 || t.lat === undefined || t.lon === undefined) continue;
    const key = `${t.time ?? ''}|${t.lat}|${t.lon}`;
    const time = t.time ? Date.parse(t.time) : undefined;
    groups.set(key, { time, lat: t.lat, lon: t.lon, speed: t.speed ?? groups.get(key)?.speed });
  }
  const m = header ? /^# Date\s*[:=]\s*(\d{4})-(\d{1,2})-(\d{1,2})/.exec(header) : null;
  const hdr = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : undefined;
  const fixes = [...groups.values()];
  let gpsdRolled = 0;
  if (hdr !== undefined) {
    // gpsd moves dates it thinks are too old by 1024 weeks (from its build date): a 2014
    // capture comes out dated 2033. The receiver's own date is the expected one.
    for (const f of fixes) {
      if (f.time !== undefined && f.time - hdr > 2 * YEAR && Math.abs(f.time - ROLLOVER - hdr) < 7 * YEAR) {
        f.time -= ROLLOVER;
        gpsdRolled++;
      }
    }
  }
  const firstTime = fixes.find((f) => f.time !== undefined)?.time;
  return { name: file.replace(/\.log$/, ''), sentences, fixes, date: firstTime ?? hdr ?? Date.UTC(2010, 0, 1), gpsdRolled };
}

export interface CaptureResult {
  name: string;
  gpsdFixes: number;
  matched: number;
  /** gpsd fixes we have no position for at that time, or another one. */
  misses: Array<{ fix: GpsdFix; ours?: { lat?: number; lon?: number; speed?: number } }>;
  speedCompared: number;
  speedMismatches: number;
  counters: Record<string, number>;
  drops: Record<string, number>;
  sentences: number;
  /** Sentences accounted for by an outcome counter or a drop. */
  accounted: number;
  readings: number;
}

export function runCapture(c: Capture, clock: number | 'capture'): CaptureResult {
  const now = clock === 'capture' ? c.date : clock;
  // a receiver that never sends checksums is configured so (checksum: optional), as a user would
  const dec = new NmeaDecoder('gps', { checksum: c.sentences.some((s) => s.includes('*')) ? 'required' : 'optional' });
  const drops = new DropCounter();
  const at = new Map<number, Array<{ lat?: number; lon?: number; speed?: number }>>();
  const positions: Array<[number, number]> = [];
  let readings = 0;
  let lastLat: number | undefined;
  for (const s of c.sentences) {
    dec.decode(s, now, (r) => {
      readings++;
      const m = r.stream.slice(4);
      if (m !== 'lat' && m !== 'lon' && m !== 'speed_kmh') return;
      // a time told twice (the receiver's time went back) has one entry per telling
      let list = at.get(r.ts);
      if (!list) at.set(r.ts, (list = [{}]));
      let e = list[list.length - 1]!;
      const key = m === 'speed_kmh' ? 'speed' : m;
      if (e[key] !== undefined) list.push((e = {}));
      if (m === 'lat') e.lat = lastLat = r.value;
      else if (m === 'lon') {
        e.lon = r.value;
        if (lastLat !== undefined) positions.push([lastLat, r.value]);
      } else e.speed = r.value / 3.6;
    }, drops, c.name);
  }
  const res: CaptureResult = {
    name: c.name,
    gpsdFixes: c.fixes.length,
    matched: 0,
    misses: [],
    speedCompared: 0,
    speedMismatches: 0,
    counters: { ...dec.c },
    drops: drops.counters(),
    sentences: c.sentences.length,
    accounted: 0,
    readings,
  };
  const k = dec.c;
  // a line holding the start of one sentence and a whole other one (a lost line end) is two sentences
  const cut = c.sentences.filter((s) => s.lastIndexOf('$') > 0 && s.slice(0, s.lastIndexOf('$')).includes(',')).length;
  res.sentences += cut;
  res.accounted = k.nmea_fixes + k.nmea_ignored + k.nmea_no_fix + k.nmea_manual_or_sim + k.nmea_time_only + k.nmea_duplicates + drops.total() + dec.waitingFixes;
  const close = (a: number | undefined, b: number) => a !== undefined && Math.abs(a - b) <= 1e-6;
  for (const f of c.fixes) {
    if (f.time === undefined) {
      if (positions.some(([la, lo]) => close(la, f.lat) && close(lo, f.lon))) res.matched++;
      else res.misses.push({ fix: f });
      continue;
    }
    const told = at.get(f.time) ?? [];
    const ours = told.find((o) => close(o.lat, f.lat) && close(o.lon, f.lon));
    if (!ours) {
      res.misses.push({ fix: f, ours: told[0] });
      continue;
    }
    if (f.speed !== undefined && ours.speed !== undefined) {
      res.speedCompared++;
      if (Math.abs(ours.speed - f.speed) > 0.01) {
        res.speedMismatches++;
        res.misses.push({ fix: f, ours });
        continue;
      }
    }
    res.matched++;
  }
  return res;
}
