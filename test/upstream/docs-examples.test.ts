import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePipelineText } from '../../src/config/load.js';
import type { Emission } from '../../src/core/records.js';
import { compilePipeline } from '../../src/compile.js';
import { MessageIds } from '../../src/outbox/ids.js';
import { encodePayload } from '../../src/core/payload.js';

test('docs/upstream.md: the alert examples are what the code sends (id, alert_id, score, reason)', () => {
  const doc = readFileSync(join(import.meta.dirname, '../../docs/upstream.md'), 'utf8');
  const examples = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => b.includes('"kind":"alert"')).map((b) => JSON.parse(b) as Record<string, unknown>);
  assert.equal(examples.length, 2, 'a raised and a cleared example');
  const spec = parsePipelineText(['name: vitals', 'input: { streams: ["*/spo2"] }', 'steps:', '  - detect: { detector: threshold, below: 90, min_duration: 5s, output: alerts, alert: { severity: critical } }'].join('\n'), 'vitals.yaml');
  const out: Emission[] = [];
  const p = compilePipeline(spec, (e) => out.push(e));
  const t0 = 1718000050000;
  for (let i = 0; i < 40; i++) p.push({ stream: 'bed-12/spo2', ts: t0 + i * 1000, value: i >= 5 && i < 12 ? 86 : 97 });
  const ids = new MessageIds();
  const sent = out.map((e, i) => {
    assert.equal(e.kind, 'alert');
    const doc = examples[i]!;
    const env = { gateway: 'ward-3', id: ids.idOf(e, 'alert', 'bed-12/spo2', 'bed-12/spo2'), epoch: doc.epoch as string, seq: doc.seq as number, emitted: doc.emitted as number };
    return JSON.parse(encodePayload(e, env).toString()) as Record<string, unknown>;
  });
  assert.deepEqual(sent, examples);
});
