import { pipelineSchema } from '../../src/config/pipeline.js';
import type { Reading } from '../../src/core/reading.js';
import type { Emission, WindowResult } from '../../src/core/records.js';
import { compilePipeline } from '../../src/compile.js';
import { type Pipeline, type PipelineOptions } from '../../src/engine/pipeline.js';

/** Build a pipeline from a plain spec (validated by the real schema) and collect what it emits. */
export function testPipeline(spec: Record<string, unknown>, opts?: PipelineOptions) {
  const full = pipelineSchema().parse({ name: 'test', input: { streams: ['**'] }, ...spec });
  const out: Emission[] = [];
  const p: Pipeline = compilePipeline(full, (e) => out.push(e), opts);
  return {
    p,
    out,
    push: (...rs: Array<Partial<Reading> & { ts: number; value: number }>) => {
      for (const r of rs) p.push({ stream: 'dev/m', ...r } as Reading);
    },
    results: (): WindowResult[] => out.flatMap((e) => (e.kind === 'aggregate' ? [e.result] : [])),
    late: () => out.flatMap((e) => (e.kind === 'late' ? [e.reading] : [])),
  };
}

export function windowSpec(window: Record<string, unknown>) {
  return { steps: [{ window: { aggregates: ['count', 'sum'], ...window } }, { output: 'agg' }] };
}

/** [start, end, count, sum] of each result, for compact assertions. */
export function brief(rs: WindowResult[]) {
  return rs.map((r) => [r.start, r.end, r.count, r.values.sum]);
}
