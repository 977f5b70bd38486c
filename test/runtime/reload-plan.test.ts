import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayText } from '../../src/config/load.js';
import { pipelineSchema, type PipelineSpec } from '../../src/config/pipeline.js';
import type { Emission } from '../../src/core/records.js';
import { compilePipeline } from '../../src/compile.js';
import { type Pipeline } from '../../src/engine/pipeline.js';
import { LiveState } from '../../src/http/live.js';
import { carriedParts, planReload, swapPipelines } from '../../src/runtime/reload.js';

const T0 = Date.UTC(2024, 0, 1);

function spec(name: string, steps: unknown[], streams = ['*/rms']): PipelineSpec {
  return pipelineSchema().parse({ name, input: { streams }, steps });
}

const WINDOW = { window: { type: 'tumbling', size: '10s', aggregates: ['count', 'mean'] } };
const DETECT = { detect: { detector: 'ewma', field: 'mean' } };

function gateway(inputs: string, extra = ''): ReturnType<typeof parseGatewayText>['config'] {
  return parseGatewayText(`gateway: { id: gw }\ninputs:\n${inputs}\n${extra}`, '/tmp/edgewise.yaml', {}, '/tmp').config;
}

test('planReload: pipelines kept, rebuilt, removed, added by name; inputs by their settings; restart-only settings named', () => {
  const a = spec('a', [WINDOW, { output: 'up' }]);
  const b = spec('b', [WINDOW, DETECT]);
  const cur = { config: gateway('  - { name: one, type: mqtt, broker: { port: 1 } }\n  - { name: two, type: mqtt, broker: { port: 2 } }'), pipelines: [a, b] };
  const next = {
    config: gateway('  - { name: one, type: mqtt, broker: { port: 1 } }\n  - { name: two, type: mqtt, broker: { port: 3 } }\n  - { name: three, type: mqtt, broker: { port: 4 } }'),
    pipelines: [spec('a', [WINDOW, { output: 'up' }]), spec('c', [WINDOW])],
  };
  const plan = planReload(cur, next);
  assert.deepEqual(plan.restartRequired, []);
  assert.deepEqual(plan.pipelines.keep, ['a']);
  assert.deepEqual(plan.pipelines.remove, ['b']);
  assert.deepEqual(plan.pipelines.add.map((s) => s.name), ['c']);
  assert.deepEqual(plan.inputs.keep, ['one']);
  assert.deepEqual(plan.inputs.restart.map((i) => i.name), ['two']);
  assert.deepEqual(plan.inputs.start.map((i) => i.name), ['three']);
  // Disabling an input stops it.
  const off = planReload(cur, { ...cur, config: gateway('  - { name: one, type: mqtt, broker: { port: 1 } }\n  - { name: two, type: mqtt, enabled: false, broker: { port: 2 } }') });
  assert.deepEqual(off.inputs.stop, ['two']);

  const moved = planReload(cur, { ...cur, config: { ...cur.config, gateway: { id: 'gw2', data_dir: 'elsewhere', clock_from_devices: true }, state: { ...cur.config.state, durability: 'off' } } });
  assert.equal(moved.restartRequired.length, 3);
  assert.match(moved.restartRequired[0]!, /^gateway\.id changed \("gw" → "gw2"\)/);
  assert.match(moved.restartRequired[1]!, /^gateway\.data_dir changed/);
  assert.match(moved.restartRequired[2]!, /^state changed: it cannot change while running .*restart edgewise/);
  // Sections may hold secrets: their values are not shown.
  const up = planReload(cur, { ...cur, config: gateway('  - { name: one, type: mqtt, broker: { port: 1 } }', 'upstream: { url: "mqtt://u:secret@host" }') });
  assert.ok(up.restartRequired.some((l) => l.startsWith('upstream changed: ')));
  assert.ok(!up.restartRequired.join().includes('secret'));
});

test('carriedParts: a step keeps its state when it and everything before it are unchanged', () => {
  const base = spec('p', [WINDOW, DETECT, { output: 'up' }]);
  assert.deepEqual(carriedParts(base, spec('p', [WINDOW, DETECT, { output: 'elsewhere' }])), ['keys', 'window', 'detect:ewma']);
  assert.deepEqual(carriedParts(base, spec('p', [WINDOW, { detect: { detector: 'ewma', field: 'mean', threshold: 7 } }, { output: 'up' }])), ['keys', 'window']);
  assert.deepEqual(carriedParts(base, spec('p', [{ window: { type: 'tumbling', size: '20s', aggregates: ['count', 'mean'] } }, DETECT])), ['keys']);
  assert.deepEqual(carriedParts(base, spec('p', [WINDOW, DETECT], ['*/other'])), [], 'another input: nothing fits');
  const forgetting = pipelineSchema().parse({ name: 'p', input: { streams: ['*/rms'], forget_after: '12h' }, steps: [WINDOW, DETECT, { output: 'up' }] });
  assert.deepEqual(carriedParts(base, forgetting), ['keys', 'window', 'detect:ewma'], 'input.forget_after set: the same data reaches every step');
  assert.deepEqual(carriedParts(forgetting, base), ['keys', 'window', 'detect:ewma']);
});

function run(s: PipelineSpec, out: Emission[]): Pipeline {
  return compilePipeline(s, (e) => out.push(e));
}

test('swapPipelines: unchanged pipelines stay the same object; a rebuilt one keeps the parts that fit (window and baselines) or flushes its window as partial; a removed one is flushed', () => {
  const out: Emission[] = [];
  const kept = run(spec('kept', [WINDOW, { output: 'up' }], ['*/t']), out);
  const later = run(spec('later', [WINDOW, DETECT, { output: 'up' }]), out);
  const early = run(spec('early', [WINDOW, DETECT, { output: 'up' }], ['*/x']), out);
  const gone = run(spec('gone', [WINDOW, { output: 'up' }], ['*/g']), out);
  for (let i = 0; i < 95; i++) {
    for (const stream of ['d/t', 'd/rms', 'd/x', 'd/g']) for (const p of [kept, later, early, gone]) p.push({ stream, ts: T0 + i * 1000, value: 10 + (i % 7) });
  }
  const before = { later: later.snapshot(), early: early.snapshot() };
  assert.equal((before.later.parts['detect:ewma']!.data as unknown[]).length, 1, 'the detector has a baseline to keep');
  const list = [kept, later, early, gone];
  out.length = 0;
  const failures = swapPipelines(
    list,
    {
      keep: ['kept'],
      rebuild: [
        { spec: spec('later', [WINDOW, DETECT, { output: 'elsewhere' }]), carry: ['keys', 'window', 'detect:ewma'] },
        { spec: spec('early', [{ window: { type: 'tumbling', size: '5s', aggregates: ['count', 'mean'] } }, DETECT, { output: 'up' }], ['*/x']), carry: ['keys'] },
      ],
      remove: ['gone'],
      add: [spec('new', [WINDOW], ['*/n'])],
    },
    (s) => run(s, out),
  );
  assert.deepEqual(failures, []);
  assert.deepEqual(list.map((p) => p.name), ['kept', 'later', 'early', 'new']);
  assert.equal(list[0], kept, 'an unchanged pipeline is the same object');
  assert.notEqual(list[1], later);
  // later: the open window (5 readings of 90-95 s) and the detector's baseline came along, nothing was flushed.
  assert.deepEqual(list[1]!.snapshot().parts.window, before.later.parts.window);
  assert.deepEqual(list[1]!.snapshot().parts['detect:ewma'], before.later.parts['detect:ewma']);
  // early: its window changed, so the old one went out as partial, and its detector starts fresh.
  const flushed = out.filter((e) => e.kind === 'aggregate').map((e) => e.kind === 'aggregate' && [e.pipeline, e.result.count, e.result.partial]);
  assert.deepEqual(flushed, [
    ['gone', 5, true],
    ['early', 5, true],
  ]);
  assert.deepEqual(list[2]!.snapshot().parts['detect:ewma']!.data, []);
  assert.equal(list[2]!.stats().keys, 1, 'the key registry came along');
});

test('after a reload the dashboard forgets the alerts and charts of detectors whose state is gone, and keeps the others', () => {
  const live = new LiveState();
  const alert = (pipeline: string, detector: string, id: string): Emission =>
    ({ kind: 'alert', pipeline, output: 'alerts', alert: { id, state: 'raised', stream: 'd/rms', detector, severity: 'warning', score: 1, start: T0, value: 9, reason: 'r' } }) as Emission;
  for (const [p, d] of [['rebuilt', 'ewma'], ['rebuilt', 'spike'], ['removed', 'ewma'], ['other', 'ewma']] as const) {
    live.onEmission(alert(p, d, `${p}:${d}`));
    live.onDetect(p, { step: d, stream: 'd/rms', ts: T0, value: 9, score: 1, alertActive: true } as never);
  }
  live.forget('removed');
  live.forget('rebuilt', (detector) => ['keys', 'window', 'detect:ewma'].includes(`detect:${detector}`));
  assert.deepEqual(live.activeAlerts().map((a) => a.id).sort(), ['other:ewma', 'rebuilt:ewma']);
  assert.deepEqual(live.allSeries().map((s) => `${s.pipeline}:${s.detector}`).sort(), ['other:ewma', 'rebuilt:ewma']);
});
