/**
 * Which rule raised each alert, per corpus: alerts inside a labelled window vs false (outside every
 * window, after NAB's probationary period), counted per rule of the default detector.
 *   npx tsx bench/tune/rules.ts '{...overrides}' [--sim DIR,DIR] [--corpus NAME]
 */
import { compileDetect } from '../../src/compile.js';
import { detectStepSchema } from '../../test/helpers/schemas.js';
import { corpora } from './sweep.js';

const args = process.argv.slice(2);
const over = JSON.parse(args.find((a) => a.startsWith('{')) ?? '{}') as Record<string, unknown>;
const sim = args.includes('--sim') ? args[args.indexOf('--sim') + 1]!.split(',') : [];
const only = args.includes('--corpus') ? args[args.indexOf('--corpus') + 1] : undefined;
for (const [name, files] of Object.entries(corpora(sim))) {
  if (only && name !== only) continue;
  const tally: Record<string, { hit: number; fa: number }> = {};
  for (const f of files) {
    const step = compileDetect(detectStepSchema.parse({ detector: 'default', ...over }));
    const probation = f.ts[Math.min(Math.floor(0.15 * f.ts.length), 750)]!;
    f.columns.forEach((c, ci) => {
      const st = step.createKeyState(`${f.key}/${c}`);
      for (let i = 0; i < f.ts.length; i++) {
        const v = f.values[ci]![i]!;
        if (!Number.isFinite(v)) continue;
        const o = step.update(st, f.ts[i]!, v);
        if (o.alert?.state !== 'raised') continue;
        const t = f.ts[i]!;
        const rule = (o.alert.reason ?? '?').split(' ')[0]!;
        const inWin = f.windows.some(([a, b]) => t >= a && t <= b);
        if (t < probation) continue;
        const r = (tally[rule] ??= { hit: 0, fa: 0 });
        if (inWin) r.hit++; else r.fa++;
      }
    });
  }
  console.log(name.padEnd(20), Object.entries(tally).map(([r, v]) => `${r} ${v.hit}/${v.fa}fa`).join('  '));
}
