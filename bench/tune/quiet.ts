/**
 * Alerts on anomaly-free series of kinds not in the corpora (5-minute steps, 20 seeds × 5,000
 * readings each), with and without the default detector's sequence rule, and with any setting given
 * as JSON overrides: what a rule or setting costs on plain data of each kind.
 *   npx tsx bench/tune/quiet.ts ['{"cal_z":3}' ...]   (QUIET_STEP=3600000: readings an hour apart)
 */
import { noise, run } from '../../test/detectors/helpers.js';

const N = 5000;
const STEP = Number(process.env.QUIET_STEP ?? 300_000); // QUIET_STEP=3600000: the same series an hour apart
const T0 = Date.UTC(2024, 0, 1);
type Make = (g: () => number, u: () => number) => (i: number) => number;
const kinds: Record<string, Make> = {
  'gaussian noise': (g) => () => 50 + g(),
  'Poisson counts (mean 3)': (_g, u) => () => {
    let k = 0;
    let p = Math.exp(-3);
    let s = p;
    const x = u();
    while (x > s) { k++; p *= 3 / k; s += p; }
    return k;
  },
  'heavy tail (Pareto, α 1.5)': (_g, u) => () => 10 / (1 - 0.999999 * u()) ** (1 / 1.5),
  'daily cycle + noise': (g) => (i) => Math.max(0, 100 + 60 * Math.sin((2 * Math.PI * i) / 288) + 10 * g()),
  // A machine that runs 07:00–19:00 every day, its start wandering by up to ±10 minutes (at 5-minute steps: ±2 readings).
  'daily on/off (07:00–19:00) + noise': (g, u) => {
    let shift = 0;
    return (i) => {
      if (i % 288 === 0) shift = Math.round(4 * u()) - 2;
      const r = (((i - shift) % 288) + 288) % 288;
      return (r >= 84 && r < 228 ? 50 : 10) + g();
    };
  },
  // The same machine's current, which reads exactly 0 while it is off (a stuck-looking value that is real).
  'daily on/off, off reads exactly 0': (g, u) => {
    let shift = 0;
    return (i) => {
      if (i % 288 === 0) shift = Math.round(4 * u()) - 2;
      const r = (((i - shift) % 288) + 288) % 288;
      return r >= 84 && r < 228 ? 50 + g() : 0;
    };
  },
  // A machine that runs all day but stops for 30 minutes at noon, reading exactly 0.
  'runs all day, stops 30 min at noon (exactly 0)': (g) => (i) => (i % 288 >= 144 && i % 288 < 150 ? 0 : 50 + g()),
  'AR(1), φ 0.95': (g) => {
    let x = 0;
    return () => (x = 0.95 * x + g());
  },
};
const configs: Record<string, Record<string, unknown>> = { with: { detector: 'default' }, without: { detector: 'default', rules: ['range', 'spike', 'flat', 'season'] } };
for (const a of process.argv.slice(2)) configs[a] = { detector: 'default', ...JSON.parse(a) };
const names = Object.keys(configs);
console.log(`| series (20 seeds × 5,000 readings, no anomaly) | alerts with the sequence rule | without |${names.slice(2).map((n) => ` ${n} |`).join('')}`);
console.log(`|---|${names.map(() => '---:|').join('')}`);
for (const [name, make] of Object.entries(kinds)) {
  const count: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (let seed = 1; seed <= 20; seed++) {
    for (const [k, cfg] of Object.entries(configs)) {
      let state = seed * 9301;
      const uniform = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
      const f = make(noise(seed), uniform);
      const values = Array.from({ length: N }, (_, i) => f(i));
      count[k]! += run(cfg, { ts: values.map((_, i) => T0 + i * STEP), values }).raised.length;
    }
  }
  console.log(`| ${name} |${names.map((n) => ` ${count[n]} |`).join('')}`);
}
