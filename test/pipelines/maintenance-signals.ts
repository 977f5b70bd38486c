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

