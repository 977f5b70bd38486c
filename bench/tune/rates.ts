/**
 * The same signal at different sampling rates (a condition the corpora barely cover: their series
 * are a minute apart or slower, SKAB's 1 s runs last 20 minutes): a daily cycle 20 ± 2 with noise
 * 0.1, 8 days, and on day 7 from 10:00 a two-hour shift of `size`. Found (an alert raised inside the
 * shift), mean delay, and false alerts after day 2 outside the shift and the hour after it, by rule.
 *
 *   npx tsx bench/tune/rates.ts ['{overrides}' ...] [--steps 1s,10s,1m,5m] [--sizes 0.6,0.3] [--seeds N]
 */
import { parseDuration } from '../../src/core/duration.js';
import { noise, run } from '../../test/detectors/helpers.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);
const args = process.argv.slice(2);
const opt = (name: string, def: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : def);
const configs = args.filter((a) => a.startsWith('{'));
if (configs.length === 0) configs.push('{}');
const steps = opt('--steps', '1s,10s,1m,5m').split(',');
const sizes = opt('--sizes', '0.6,0.3').split(',').map(Number);
const seedsFor = (step: number) => Number(opt('--seeds', step < 10_000 ? '4' : '10'));

console.log('| step | shift | setting | found | mean delay | false alerts (by rule) |');
console.log('|---|---:|---|---|---:|---|');
for (const name of steps) {
  const step = parseDuration(name);
  for (const size of sizes) {
    for (const c of configs) {
      const seeds = seedsFor(step);
      let found = 0;
      let delay = 0;
      const rules: Record<string, number> = {};
      let false_ = 0;
      const at = T0 + 7 * DAY + 10 * HOUR;
      for (let seed = 1; seed <= seeds; seed++) {
        const g = noise(seed);
        const ts: number[] = [];
        const values: number[] = [];
        for (let t = T0; t < T0 + 8 * DAY; t += step) {
          ts.push(t);
          values.push(20 + 2 * Math.sin((2 * Math.PI * (t - T0)) / DAY) + 0.1 * g() + (t >= at && t < at + 2 * HOUR ? size : 0));
        }
        const r = run({ detector: 'default', ...JSON.parse(c) }, { ts, values });
        const hit = r.raised.map((i) => ts[i]!).find((t) => t >= at && t < at + 2 * HOUR);
        if (hit !== undefined) {
          found++;
          delay += (hit - at) / 60_000;
        }
        for (const i of r.raised) {
          const t = ts[i]!;
          if (t < T0 + 2 * DAY || (t >= at && t < at + 3 * HOUR)) continue;
          false_++;
          const rule = (JSON.parse(r.outputs[i]!).alert.reason as string).split(' ')[0]!;
          rules[rule] = (rules[rule] ?? 0) + 1;
        }
      }
      const by = Object.entries(rules).map(([k, v]) => `${k} ${v}`).join(', ');
      console.log(`| ${name} | ${size} | \`${c}\` | ${found}/${seeds} | ${found ? (delay / found).toFixed(1) : '-'} min | ${false_}${by ? ` (${by})` : ''} |`);
    }
  }
}
