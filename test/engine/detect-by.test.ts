/**
 * A detect step's `by` (the `ceiling` detector's operating state): the engine hands each judged value
 * its context — a field of the same reading, or of the same (joined) window result — so the
 * detector judges it against the usual high of that load.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pipelineSchema } from '../../src/config/pipeline.js';
import { compilePipeline } from '../../src/compile.js';
import type { AlertRecord } from '../../src/core/records.js';

const T0 = Date.UTC(2026, 0, 5);
const MIN = 60_000;
const H = 60 * MIN;
const CEILING = { name: 'hot', detector: 'ceiling', block: '1h', min_rise: 10, warmup: 2, lag: '10m' };

/** Three hours at a low load (5 A, 40 °C), then a high one (10 A, 55 °C): a reading a minute. */
function loads(at: (t: number) => { temp: number; current: number }) {
  const out: Array<{ ts: number; temp: number; current: number }> = [];
  for (let t = T0; t < T0 + 6 * H; t += MIN) out.push({ ts: t, ...at(t) });
  return out;
}
const twoLoads = loads((t) => (t < T0 + 3 * H ? { temp: 40, current: 5 } : { temp: 55, current: 10 }));

describe('detect step `by`: the operating state of each judged value', () => {
  it("from a reading's fields: the high load is a state of its own, learnt, not an alert; without `by` it is one", () => {
    const run = (by: boolean) => {
      const spec = pipelineSchema().parse({ name: 'p', input: { streams: ['*/*'] }, steps: [{ detect: { ...CEILING, ...(by ? { by: 'current' } : {}) } }] });
      const alerts: AlertRecord[] = [];
      const p = compilePipeline(spec, (e) => e.kind === 'alert' && alerts.push(e.alert));
      for (const r of twoLoads) p.push({ stream: 'pump-1/bearing', ts: r.ts, value: r.temp, fields: { current: r.current } });
      p.flush();
      return alerts.filter((a) => a.state === 'raised');
    };
    assert.deepEqual(run(true), []);
    assert.equal(run(false).length, 1);
  });

  it('from a joined window result: the temperature and current of one window', () => {
    const run = (by: boolean) => {
      const spec = pipelineSchema().parse({
        name: 'p',
        input: { streams: ['*/*'] },
        steps: [
          { window: { type: 'tumbling', size: '1m', aggregates: ['mean'] } },
          { join: { metric: 'thermal', fields: { temp: 'temp.mean', load: 'current.mean' } } },
          { detect: { ...CEILING, field: 'temp', ...(by ? { by: 'load' } : {}) }, streams: ['*/thermal'] },
        ],
      });
      const alerts: AlertRecord[] = [];
      const p = compilePipeline(spec, (e) => e.kind === 'alert' && alerts.push(e.alert));
      for (const r of twoLoads) {
        p.push({ stream: 'pump-1/temp', ts: r.ts, value: r.temp });
        p.push({ stream: 'pump-1/current', ts: r.ts, value: r.current });
      }
      p.flush();
      return alerts.filter((a) => a.state === 'raised');
    };
    assert.deepEqual(run(true), []);
    const one = run(false);
    assert.equal(one.length, 1);
    assert.equal(one[0]!.stream, 'pump-1/thermal');
  });

  it('`by` on a detector without operating states is refused by the config', () => {
    assert.throws(() => pipelineSchema().parse({ name: 'p', input: { streams: ['*/*'] }, steps: [{ detect: { detector: 'threshold', above: 1, by: 'current' } }] }), /by/);
  });
});
