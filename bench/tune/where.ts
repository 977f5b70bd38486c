/** Debug: where alerts are raised per file (row index, rule) against window rows, every corpus of sweep.ts. npx tsx bench/tune/where.ts '{...}' [filter] (FULL=1: the whole reason) */
import { compileDetect } from '../../src/compile.js';
import { detectStepSchema } from '../../test/helpers/schemas.js';
import { corpora } from './sweep.js';

const all = Object.values(corpora([])).flat();
const over = JSON.parse(process.argv.find((a) => a.startsWith('{')) ?? '{}');
const filt = process.argv.slice(2).find((a) => !a.startsWith('{')) ?? '';
for (const f of all) {
  if (!f.key.includes(filt)) continue;
  const step = compileDetect(detectStepSchema.parse({ detector: 'default', ...over }));
  const n = f.ts.length;
  const win = f.windows.map(([a, b]) => [f.ts.findIndex((t) => t >= a), n - 1 - [...f.ts].reverse().findIndex((t) => t <= b)]);
  const ev: string[] = [];
  f.columns.forEach((c, ci) => {
    const st = step.createKeyState(c);
    for (let i = 0; i < n; i++) {
      const o = step.update(st, f.ts[i]!, f.values[ci]![i]!);
      if (o.alert?.state === 'raised') ev.push(`${i}${f.columns.length > 1 ? ':' + c.slice(0, 6) : ''}:${process.env.FULL ? o.alert.reason : (o.alert.reason ?? '').split(' ')[0]}`);
    }
  });
  console.log(`${f.key} n=${n} prob=${Math.min(Math.floor(0.15 * n), 750)} win=${JSON.stringify(win)}\n   ${ev.join(' ')}`);
}
