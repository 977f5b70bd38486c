/**
 * Generated run-to-failure vibration (not the simulator): used by maintenance-trend.test.ts and
 * bench/maintenance-trend.ts.
 */
export const BEARING_T0 = Date.UTC(2024, 2, 1);
const T0 = BEARING_T0;
const H = 3_600_000;
const DAYS = 7;
export const BEARING_FAIL = T0 + DAYS * 24 * H;
const FAIL = BEARING_FAIL;

export function gaussian(seed: number): () => number {
  let s = seed >>> 0 || 1;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

/**
 * A bearing's vibration RMS (g) every `intervalMs` over seven days: healthy level with 8 % noise
 * (log standard deviation `noise`; 0.3 is as noisy as the 0.1 s snapshots of the PRONOSTIA rig),
 * ±5 % daily load cycle and a 1 % chance per reading of a 1.5–2.5× spike; with `trend`, the level
 * rises as 1 + (top − 1)·u³ over the last 48 h (u from 0 to 1): `top` (10) times at failure.
 */
export function bearing(intervalMs: number, trend: boolean, seed = 5, noise = 0.08, top = 10) {
  const n = gaussian(seed);
  const out: Array<{ ts: number; rms: number }> = [];
  for (let ts = T0; ts < FAIL; ts += intervalMs) {
    const u = Math.max(0, (ts - (FAIL - 48 * H)) / (48 * H));
    let level = 0.2 * (1 + 0.05 * Math.sin((2 * Math.PI * ts) / (24 * H))) * (trend ? 1 + (top - 1) * u ** 3 : 1);
    level *= Math.exp(noise * n());
    if (Math.abs(n()) > 2.576) level *= 1.5 + Math.abs(n()) / 3; // ~1 % spikes
    out.push({ ts, rms: level });
  }
  return out;
}


/** A pump's readings of one second: vibration RMS, peak and kurtosis, bearing temperature (0.1 °C), current (0.01 A). */
function pumpSecond(ts: number, rms: number, temp: number, current: number, n: () => number) {
  return [
    { ts, metric: 'vibration_rms', value: rms },
    { ts, metric: 'vibration_peak', value: rms * (3.2 + 0.2 * n()) },
    { ts, metric: 'vibration_kurtosis', value: 3 + 0.15 * n() },
    { ts, metric: 'bearing_temp_c', value: Math.round((temp + 0.1 * n()) * 10) / 10 },
    { ts, metric: 'current_a', value: Math.round(current * 100) / 100 },
  ];
}

export type DutyCycle = 'day-shift' | 'cycling';
export type PumpFault = 'none' | 'overheating' | 'vibration' | 'overload';

/**
 * A pump that stops and starts, at 1 Hz for three days (from BEARING_T0, stopped at first):
 * `day-shift` runs 06:00–22:00, `cycling` 20 minutes of every hour (a level-controlled sump pump).
 * Running: vibration RMS 0.2 g (3× for the first 5 s: run-up), current 12 A (6× inrush for 3 s),
 * the bearing warming towards 65 °C (time constant 30 min). Stopped: vibration 0.004 g, current
 * ~0.02 A (sensor offset), the bearing cooling towards 25 °C (1 h). From 50 h a fault: the bearing
 * settles 15 °C hotter, vibration rises to 3× over 12 h, or the current draw rises 30 %.
 */
export function dutyPump(duty: DutyCycle, fault: PumpFault = 'none', seed = 3): Array<{ ts: number; metric: string; value: number }> {
  const n = gaussian(seed);
  const out: Array<{ ts: number; metric: string; value: number }> = [];
  let temp = 25;
  let startedAt = -Infinity;
  let wasOn = false;
  for (let ts = T0; ts < T0 + 72 * H; ts += 1000) {
    const hour = (ts - T0) / H;
    const on = duty === 'day-shift' ? hour % 24 >= 6 && hour % 24 < 22 : ((ts - T0) / 60_000) % 60 < 20;
    if (on && !wasOn) startedAt = ts;
    wasOn = on;
    const late = hour >= 50;
    temp += ((on ? 65 + (fault === 'overheating' && late ? 15 : 0) : 25) - temp) / (on ? 1800 : 3600);
    const since = ts - startedAt;
    const rise = fault === 'vibration' && late ? 1 + Math.min(2, (hour - 50) / 6) : 1;
    const rms = on ? 0.2 * rise * Math.exp(0.08 * n()) * (since < 5000 ? 3 : 1) : 0.004 * Math.exp(0.2 * n());
    const current = on ? 12 * (fault === 'overload' && late ? 1.3 : 1) * (since < 3000 ? 6 : 1) * (1 + 0.02 * n()) : Math.abs(0.02 * n());
    out.push(...pumpSecond(ts, rms, temp, current, n));
  }
  return out;
}

/**
 * A pump under a daily load for three days from midnight (BEARING_T0), at 1 Hz: load 0.45 at night
 * and 0.95 from 06:00 to 22:00 (30-minute ramps), so it is first seen at its low load. Current
 * 20 A × (0.35 + 0.65 × load); the bearing at ambient (20 °C ± 4, warmest at 15:00) + 28 °C × load
 * (time constant 10 min running, 30 min cooling); vibration 0.1 g × (1 + 0.35 × (load − 0.7)), 5 %
 * noise. `always` never stops; `cycling` runs the first 30 minutes of every hour (it stands
 * through the morning's ramp, 05:30–06:00, and starts at its day load). `overheating`:
 * on the third day from 14:00 the bearing heats 20 °C more over 30 minutes, then cools back.
 */
export function dailyLoadPump(duty: 'always' | 'cycling', fault: 'none' | 'overheating' = 'none', seed = 7): Array<{ ts: number; metric: string; value: number }> {
  const n = gaussian(seed);
  const out: Array<{ ts: number; metric: string; value: number }> = [];
  const hot0 = T0 + (48 + 14) * H;
  let temp = 20 + 28 * 0.45;
  let startedAt = -Infinity;
  let wasOn = true;
  for (let ts = T0; ts < T0 + 72 * H; ts += 1000) {
    const h = ((ts - T0) / H) % 24;
    const shift = h < 5.5 || h >= 22.5 ? 0 : h < 6 ? (h - 5.5) * 2 : h < 22 ? 1 : 1 - (h - 22) * 2;
    const load = 0.45 + 0.5 * shift;
    const on = duty === 'always' || ((ts - T0) / 60_000) % 60 < 30;
    if (on && !wasOn) startedAt = ts;
    wasOn = on;
    const ambient = 20 + 4 * Math.cos((2 * Math.PI * (h - 15)) / 24);
    const hot = fault === 'overheating' && ts >= hot0 ? (ts < hot0 + 0.5 * H ? 20 * ((ts - hot0) / (0.5 * H)) : 0) : 0;
    const target = on ? ambient + 28 * load + hot : ambient;
    temp += (target - temp) * (1 - Math.exp(-1 / (on ? 600 : 1800)));
    const since = ts - startedAt;
    const current = on ? 20 * (0.35 + 0.65 * load) * (since < 3000 ? 6 : 1) * (1 + 0.02 * n()) : Math.abs(0.02 * n());
    const rms = on ? 0.1 * (1 + 0.35 * (load - 0.7)) * Math.exp(0.05 * n()) : 0.004 * Math.exp(0.2 * n());
    out.push(...pumpSecond(ts, rms, temp, current, n));
  }
  return out;
}
