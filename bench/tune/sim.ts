/**
 * Simulator check in memory: the default detector (with optional overrides) on a data set made by
 * `edgewise sim --csv-out DIR`, scored like `edgewise backtest`, plus raised alerts per column and rule.
 *   npx tsx bench/tune/sim.ts DIR [DIR...] ['{"range_relax":0.001}'] [--cols]
 */
import { summarise } from '../../src/backtest/metrics.js';
import { compileDetect } from '../../src/compile.js';
import { detectStepSchema } from '../../test/helpers/schemas.js';
import { loadCorpus } from './corpus.js';
import { evaluate, HEADER, row } from './harness.js';

const args = process.argv.slice(2);
const over = JSON.parse(args.find((a) => a.startsWith('{')) ?? '{}');
const dirs = args.filter((a) => !a.startsWith('{') && !a.startsWith('--'));
const cols = args.includes('--cols');
const cfg = { step: { detector: 'default', ...over } };
console.log(HEADER);
for (const d of dirs) {
  const files = loadCorpus(`${d}/data`, `${d}/labels/combined_windows.json`);
  const m = evaluate(files, cfg);
  console.log(row(d.split('/').pop()!, summarise(m)));
  if (!cols) continue;
  const byRule = new Map<string, number>();
  for (const f of files) {
    const step = compileDetect(detectStepSchema.parse(cfg.step));
    f.columns.forEach((c, ci) => {
      const st = step.createKeyState(c);
      for (let i = 0; i < f.ts.length; i++) {
        const v = f.values[ci]![i]!;
        if (!Number.isFinite(v)) continue;
        const o = step.update(st, f.ts[i]!, v);
        if (o.alert?.state === 'raised') {
          const k = `${f.key.split('/')[0]}/${c} ${(o.alert.reason ?? '').split(' ')[0]}`;
          byRule.set(k, (byRule.get(k) ?? 0) + 1);
        }
      }
    });
  }
  console.log('  raised per column and rule: ' + [...byRule].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}=${n}`).join(', '));
}
