/**
 * Why windows are missed: for every labelled window of a corpus (after NAB's probation), the largest
 * statistic each rule of the default detector reached inside it, against its fixed floor and
 * against the record/limit in force at that reading. Diagnostic for issue 12 (recall).
 *   npx tsx bench/tune/why-missed.ts "cloud hourly" ['{overrides}'] [-v]   (-v: one line per window)
 */
import { DefaultDetector, DEFAULT_DETECTOR_PARAMS } from '../../src/detectors/default/detector.js';
import type { Judgement } from '../../src/detectors/types.js';
import { corpora } from './sweep.js';

const args = process.argv.slice(2);
const name = args[0] ?? 'cloud hourly';
const over = JSON.parse(args.find((a) => a.startsWith('{')) ?? '{}') as Record<string, unknown>;
const files = corpora([])[name]!;
const P = { ...DEFAULT_DETECTOR_PARAMS, ...over };
/** The detector's private state this diagnosis reads (before each update, and the seasonal model after it). */
interface Internals {
  typical: number;
  prev: number;
  spikeRecord: number;
  seasonRecord: number;
  levelDev: number;
  season: { model: number; pred: number; scale: number };
  update(ts: number, x: number): Judgement;
}
type Agg = { n: number; spikeFloor: number; spikeRec: number; seasFloor: number; seasRec: number; range: number; seq: number; any: number };
const agg: Agg = { n: 0, spikeFloor: 0, spikeRec: 0, seasFloor: 0, seasRec: 0, range: 0, seq: 0, any: 0 };
for (const f of files) {
  const probation = Math.min(Math.floor(0.15 * f.ts.length), 750);
  for (let c = 0; c < f.columns.length; c++) {
    const det = new DefaultDetector(P) as unknown as Internals;
    const rows: Array<{ spike: number; spikeLim: number; sz: number; seasLim: number; rule: string; score: number }> = [];
    for (let i = 0; i < f.ts.length; i++) {
      const x = f.values[c]![i]!;
      const { typical, prev, spikeRecord: spikeRec, seasonRecord: seasRec, levelDev: ld } = det;
      const o = det.update(f.ts[i]!, x);
      const spike = Math.abs(x - prev) / Math.max(typical, 1e-9);
      const se = det.season;
      const sz = se.model >= 0 ? Math.abs(x - se.pred) / (1.25 * se.scale + 0.01 * ld + 1e-9) : 0;
      rows.push({ spike, spikeLim: Math.max(P.spike_z, spikeRec), sz, seasLim: Math.max(P.season_z, seasRec), rule: o.rule, score: o.score });
    }
    for (const [a, b] of f.windows) {
      const i0 = f.ts.findIndex((t) => t >= a);
      let i1 = f.ts.findIndex((t) => t > b);
      if (i1 < 0) i1 = f.ts.length;
      if (i0 < probation) continue;
      agg.n++;
      const s = { spikeFloor: 0, spikeRec: 0, seasFloor: 0, seasRec: 0, range: 0, seq: 0, any: 0 };
      let mx = { spike: 0, spikeLim: 0, sz: 0, seasLim: 0 };
      for (let i = i0; i < i1; i++) {
        const r = rows[i]!;
        if (r.spike >= P.spike_z) s.spikeFloor = 1;
        if (r.spike >= r.spikeLim) s.spikeRec = 1;
        if (r.sz >= P.season_z) s.seasFloor = 1;
        if (r.sz >= r.seasLim) s.seasRec = 1;
        if (r.score >= 0.5) { s.any = 1; if (r.rule === 'range') s.range = 1; if (r.rule === 'sequence') s.seq = 1; }
        if (r.spike / r.spikeLim > mx.spike / (mx.spikeLim || 1)) mx = { ...mx, spike: r.spike, spikeLim: r.spikeLim };
        if (r.sz / r.seasLim > mx.sz / (mx.seasLim || 1)) mx = { ...mx, sz: r.sz, seasLim: r.seasLim };
      }
      for (const k of Object.keys(s) as Array<keyof typeof s>) agg[k] += s[k];
      if (args.includes('-v')) console.log(`${f.key} rows ${i0}-${i1}: anomalous ${s.any} spike ${mx.spike.toFixed(1)}/${mx.spikeLim.toFixed(1)} season ${mx.sz.toFixed(1)}/${mx.seasLim.toFixed(1)}`);
    }
  }
}
console.log(`${name}: ${agg.n} windows after probation; some reading anomalous (any rule): ${agg.any}; of them range ${agg.range}, sequence ${agg.seq}`);
console.log(`spike ≥ spike_z: ${agg.spikeFloor}, spike ≥ max(spike_z, record): ${agg.spikeRec}; |season z| ≥ season_z: ${agg.seasFloor}, ≥ max(season_z, record): ${agg.seasRec}`);
