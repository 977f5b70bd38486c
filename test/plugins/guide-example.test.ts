import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { compilePipeline } from '../../src/compile.js';
import { pipelineSchema } from '../../src/config/pipeline.js';
import type { Emission } from '../../src/core/records.js';
import { builtinPlugins } from '../../src/plugins.js';
import { maxStepPlugin } from '../../docs/examples/max-step/plugin.js';

const ROOT = join(import.meta.dirname, '../..');

test('the guide shows the example plugin as it is in docs/examples (imports from its place in src/detectors)', () => {
  const guide = readFileSync(join(ROOT, 'docs/plugins.md'), 'utf8');
  const file = readFileSync(join(ROOT, 'docs/examples/max-step/plugin.ts'), 'utf8');
  const code = guide.match(/`src\/detectors\/max-step\/plugin\.ts`:\n\n```ts\n([\s\S]*?)```/)?.[1];
  assert.ok(code, 'docs/plugins.md has the example in a ts block');
  assert.equal(code, file.slice(file.indexOf('import type { z }')).replaceAll('../../../src/', '../../'));
});

const pipeline = parse(`
name: steps
input: { streams: ["pump-*/pressure"] }
steps:
  - detect: { detector: max_step, max_step: 5, alert: { severity: warning } }
`);

test('the guide\'s detector: one plugin added to the set, and a pipeline validates, runs and alerts with it', () => {
  assert.equal(pipelineSchema().safeParse(pipeline).success, false, 'the built-in set does not know max_step');
  const plugins = builtinPlugins.with(maxStepPlugin); // the one line in src/plugins.ts
  const spec = pipelineSchema(plugins).parse(pipeline);
  const out: Emission[] = [];
  const p = compilePipeline(spec, (e) => void out.push(e), undefined, plugins);
  const values = [10, 11, 12, 30, 31, 30, 29];
  for (const [i, v] of values.entries()) p.push({ stream: 'pump-1/pressure', ts: 1_700_000_000_000 + i * 1000, value: v });
  const alerts = out.filter((e) => e.kind === 'alert');
  assert.equal(alerts.length >= 1, true, JSON.stringify(out));
  const first = alerts[0] as Extract<Emission, { kind: 'alert' }>;
  assert.equal(first.alert.detector, 'max_step');
  assert.equal(first.alert.state, 'raised');
  assert.equal(first.alert.value, 30);
  // its state survives a restart, through the pipeline's snapshot
  const snap = p.snapshot();
  assert.deepEqual((snap.parts['detect:max_step']!.data as Array<[string, { detector: unknown }]>)[0]![1].detector, { kind: 'max_step', previous: 29 });
});

test('the example\'s sample config validates once it is in the set', () => {
  const plugins = builtinPlugins.with(maxStepPlugin);
  const schema = pipelineSchema(plugins).parse({ name: 'x', input: { streams: ['**'] }, steps: [{ detect: parse(maxStepPlugin.sample) }] });
  assert.equal((schema.steps[0]!.detect as unknown as { max_step: number }).max_step, 5);
});
