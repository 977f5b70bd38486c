/**
 * The `dedupe` step: a reading sent twice (an MQTT QoS 1 resend, a LoRaWAN uplink heard by two
 * gateways) is dropped and counted, so a window after it counts each reading once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pipelineSchema } from '../../src/config/pipeline.js';
import { compilePipeline } from '../../src/compile.js';
import type { Emission } from '../../src/core/records.js';
import type { Reading } from '../../src/core/reading.js';

const T0 = Date.UTC(2024, 6, 1);
const S = 1000;
const MIN = 60 * S;

function pipeline(steps: unknown[]) {
  const spec = pipelineSchema().parse({ name: 'station', input: { streams: ['*/*'] }, steps });
  const out: Emission[] = [];
  const p = compilePipeline(spec, (e) => out.push(e));
  const counts = () => out.flatMap((e) => (e.kind === 'aggregate' ? [`${e.result.stream} ${e.result.count} ${e.result.values.sum!.toFixed(3)}`] : []));
  const kept = () => out.flatMap((e) => (e.kind === 'reading' ? [e.reading] : []));
  return { p, out, counts, kept };
}

const window = { window: { type: 'tumbling', size: '1m', lateness: '1m', aggregates: ['count', 'sum'] } };

/** A minute of readings every 10 s on two streams; `again` readings arrive a second time later. */
function feed(p: { push(r: Reading): boolean }, again: (i: number) => number[]) {
  const sent: Reading[] = [];
  for (let i = 0; i < 6; i++) {
    for (const stream of ['w-1/turbidity', 'w-1/ph']) {
      const r = { stream, ts: T0 + i * 10 * S, value: stream === 'w-1/ph' ? 8.3 : 0.02 + i / 1000 };
      sent.push(r);
      p.push(r);
    }
    for (const k of again(i)) p.push({ ...sent[k]! });
  }
  p.push({ stream: 'w-1/turbidity', ts: T0 + 3 * MIN, value: 0.02 });
  p.push({ stream: 'w-1/ph', ts: T0 + 3 * MIN, value: 8.3 });
}

describe('dedupe: a reading sent twice counts once', () => {
  it('a resend, right after or after newer readings of its stream, is dropped and counted with its time; the window counts each reading once', () => {
    // Each turbidity reading sent twice at once (a LoRaWAN uplink heard by two gateways), and the
    // first two pH readings again after three newer ones (a QoS 1 resend after a reconnect).
    const resends = (i: number) => [2 * i, ...(i === 4 ? [1, 3] : [])];
    const without = pipeline([window, { output: 'agg' }]);
    feed(without.p, resends);
    const withIt = pipeline([{ dedupe: {} }, window, { output: 'agg' }]);
    feed(withIt.p, resends);
    withIt.p.flush();
    without.p.flush();
    assert.deepEqual(without.counts().slice(0, 2), ['w-1/turbidity 12 0.270', 'w-1/ph 8 66.400']);
    assert.deepEqual(withIt.counts().slice(0, 2), ['w-1/turbidity 6 0.135', 'w-1/ph 6 49.800']);
    const stats = withIt.p.stats();
    assert.equal(stats.dropped.duplicate, 8);
    assert.deepEqual(stats.operators.dedupe, { duplicates: 8 });
    // Each drop keeps what it was, why and its event time (the dead letters of `edgewise dead-letters`).
    const resent = withIt.p.drops.samplesFor('duplicate').find((d) => d.detail?.startsWith('w-1/ph') && d.at === T0 + 10 * S);
    assert.ok(resent, JSON.stringify(withIt.p.drops.samplesFor('duplicate')));
    assert.match(resent.detail!, /w-1\/ph: the reading of 2024-07-01T00:00:10.000Z \(value 8.3\) came again: dropped \(step dedupe\)/);
  });

  it('keeps a reading of the same time and value whose fields or tags differ, or of the same value at another time', () => {
    const { p, kept } = pipeline([{ dedupe: { readings: 4 } }, { output: 'kept' }]);
    const base = { stream: 'van-1/speed', ts: T0, value: 50 };
    p.push({ ...base, fields: { fix: 3 } });
    p.push({ ...base, fields: { fix: 2 } });
    p.push({ ...base, fields: { fix: 3 } });
    p.push({ ...base, fields: { fix: 3 }, tags: { unit: 'km/h' } });
    p.push({ ...base, ts: T0 + S });
    p.push({ ...base, ts: T0 + S, value: 51 });
    p.push({ ...base, ts: T0 + S });
    assert.deepEqual(kept().map((r) => [r.ts - T0, r.value, r.fields?.fix ?? null, r.tags?.unit ?? null]), [
      [0, 50, 3, null],
      [0, 50, 2, null],
      [0, 50, 3, 'km/h'],
      [S, 50, null, null],
      [S, 51, null, null],
    ]);
    assert.equal(p.stats().dropped.duplicate, 2);
  });

  it('compares with the stream\'s last `readings` only; a restart from saved state still knows them', () => {
    const steps = [{ dedupe: { readings: 2 } }, { output: 'kept' }];
    const first = pipeline(steps);
    for (let i = 0; i < 3; i++) first.p.push({ stream: 'w-1/ph', ts: T0 + i * S, value: 8 + i });
    // The first reading is three back: beyond a memory of two, so a resend of it is kept.
    first.p.push({ stream: 'w-1/ph', ts: T0, value: 8 });
    assert.equal(first.kept().length, 4);
    const next = pipeline(steps);
    assert.deepEqual(next.p.restore(structuredClone(first.p.snapshot())), []);
    next.p.push({ stream: 'w-1/ph', ts: T0 + 2 * S, value: 10 });
    next.p.push({ stream: 'w-1/ph', ts: T0 + 3 * S, value: 11 });
    assert.deepEqual(next.kept().map((r) => r.value), [11]);
    assert.equal(next.p.stats().dropped.duplicate, 1);
  });

  it('`readings` out of range is a clear config error', () => {
    assert.throws(() => pipelineSchema().parse({ name: 's', input: { streams: ['*/*'] }, steps: [{ dedupe: { readings: 0 } }] }), /readings/);
  });
});
