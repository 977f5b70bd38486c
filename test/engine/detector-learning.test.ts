import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deserialize, serialize } from 'node:v8';
import { compilePipeline } from '../../src/compile.js';
import { pipelineSchema } from '../../src/config/pipeline.js';

const T0 = Date.UTC(2026, 0, 1);

function build() {
  const spec = pipelineSchema().parse({
    name: 't',
    input: { streams: ['**'] },
    steps: [{ filter: { max: 1000 } }, { detect: { detector: 'default' } }, { detect: { name: 'hot', detector: 'threshold', above: 50 } }],
  });
  return compilePipeline(spec, () => {});
}

const detectors = (p: ReturnType<typeof build>) => p.stats().detectors;
const feed = (p: ReturnType<typeof build>, stream: string, from: number, n: number, value = 20) => {
  for (let i = from; i < from + n; i++) p.push({ stream, ts: T0 + i * 1000, value: value + (i % 7) * 0.1 });
};

test('stats say how many streams each detect step keeps, and how many are still learning (warm-up) — also after a restore', () => {
  const p = build();
  assert.deepEqual(detectors(p), [
    { step: 'default', streams: 0, learning: 0 },
    { step: 'hot', streams: 0, learning: 0 },
  ]);
  // the default detector's warm-up is 100 readings; a threshold judges from the first
  feed(p, 'a/t', 0, 150);
  feed(p, 'b/t', 0, 40);
  assert.deepEqual(detectors(p), [
    { step: 'default', streams: 2, learning: 1 },
    { step: 'hot', streams: 2, learning: 0 },
  ]);
  // a stream whose readings a filter stops never reaches the detectors
  feed(p, 'c/t', 0, 5, 5000);
  assert.equal(detectors(p)[0]!.streams, 2);

  // through a checkpoint (as the outbox database stores it): b is still learning, a is not
  const q = build();
  assert.deepEqual(q.restore(deserialize(serialize(p.snapshot()))), []);
  assert.deepEqual(detectors(q), detectors(p));
  feed(q, 'b/t', 40, 70);
  assert.deepEqual(detectors(q)[0], { step: 'default', streams: 2, learning: 0 }, 'b past its 100 readings');
});
