import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePipeline } from '../../src/compile.js';
import { pipelineSchema } from '../../src/config/pipeline.js';

test('a reading refused as future whose time is microseconds since the epoch says which ts_unit to set', () => {
  const p = compilePipeline(pipelineSchema().parse({ name: 'p', input: { streams: ['*/*'] }, steps: [{ output: 'raw' }] }), () => {});
  const details: string[] = [];
  p.drops.onDrop((d) => details.push(d.detail ?? ''));
  const now = Date.UTC(2026, 11, 2, 12);
  p.push({ stream: 'logger/temp', ts: now * 1000, value: 1, arrival: now });
  assert.equal(p.stats().dropped.future, 1);
  assert.match(details[0] ?? '', /set ts_unit: us/);
});
