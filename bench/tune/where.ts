/** Debug: where alerts are raised per file (row index, rule) against window rows. npx tsx bench/tune/where.ts '{...}' [filter] */
import { compileDetect } from '../../src/compile.js';
import { detectStepSchema } from '../../test/helpers/schemas.js';
import { loadAll } from './harness.js';

const { nab, skab } = loadAll();
const over = JSON.parse(process.argv.find((a) => a.startsWith('{')) ?? '{}');
const filt = process.argv.slice(2).find((a) => !a.startsWith('{')) ?? '';
for (const f of [...nab, ...skab]) {
  if (!f.key.includes(filt)) continue;
  const step = compileDetect(detectStepSchema.parse({ detector: 'default', ...over }));
  const n = f.ts.length;
  const win = f.windows.map(([a, b]) => [f.ts.findIndex((t) => t >= a), n - 1 - [...f.ts].reverse().findIndex((t) => t <= b)]);
  const ev: string[] = [];
  f.columns.forEach((c, ci) => {
    const st = step.createKeyState(c);
    for (let i = 0; i < n; i++) {
      const o = step.update(st, f.ts[i]!, f.values[ci]![i]!);
      if (o.alert?.state === 'raised') ev.push(`${i}${f.columns.length > 1 ? ':' + c.slice(0, 6) : ''}:${(o.alert.reason ?? '').split(' ')[0]}`);
    }
  });
  console.log(`${f.key} n=${n} prob=${Math.min(Math.floor(0.15 * n), 750)} win=${JSON.stringify(win)}\n   ${ev.join(' ')}`);
}
