import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testPipeline, windowSpec } from '../helpers/pipeline.js';

// Without `idle_timeout` a silent stream's windows still close: after 2 × the window (or the
// session gap), at least a minute, by the gateway clock. Not never.

test('default idle timeout: a silent stream\'s tumbling 10 s window closes after a minute of silence, not before', () => {
  const t = testPipeline(windowSpec({ type: 'tumbling', size: '10s' }));
  t.push({ stream: 'quiet/x', ts: 1000, value: 3, arrival: 1000 });
  t.p.advanceTo(50_000);
  assert.equal(t.results().length, 0, 'silent 49 s: still open');
  t.p.advanceTo(120_000);
  const r = t.results();
  assert.equal(r.length, 1, 'silent ≥ 60 s: closed');
  assert.equal(r[0]!.count, 1);
});

test('default idle timeout: a silent stream\'s 2 min session closes after 2 × the gap', () => {
  const t = testPipeline(windowSpec({ type: 'session', gap: '2m' }));
  t.push({ stream: 'quiet/x', ts: 1000, value: 3, arrival: 1000 });
  t.p.advanceTo(200_000);
  assert.equal(t.results().length, 0, 'silent 3.3 min: still open');
  t.p.advanceTo(600_000);
  assert.equal(t.results().length, 1, 'silent ≥ 4 min: closed');
});
