import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, formatConfigIssue, parsePipelineText } from '../../src/config/load.js';
import { brief, pipelineIssues, yaml } from './helpers.js';

const HEAD = ['name: pumps', 'input:', '  streams: ["pump-*/vibration"]', 'steps:'];

function one(text: string) {
  const issues = pipelineIssues(text);
  assert.equal(issues.length, 1, `expected one issue, got:\n${issues.map(brief).join('\n')}`);
  return issues[0]!;
}

test('a valid pipeline parses, with durations in ms and defaults filled in', () => {
  const spec = parsePipelineText(yaml(...HEAD, '  - window: { type: tumbling, size: 10s, aggregates: [mean, p95] }', '  - output: out'), 'ok.yaml');
  assert.equal(spec.name, 'pumps');
  assert.equal(spec.input.max_keys, 10_000);
  const w = spec.steps[0]!.window!;
  assert.equal(w.type, 'tumbling');
  assert.equal(w.type === 'tumbling' && w.size, 10_000);
});

test('unknown top-level key: points at the key, with did-you-mean', () => {
  // "step" is unknown and "steps" is then missing: only the typo is reported (it says it all).
  const i = one(yaml('name: pumps', 'input:', '  streams: ["*/t"]', 'step:', '  - output: out'));
  assert.deepEqual([i.line, i.column, i.path], [4, 1, '(top level)']);
  assert.equal(i.message, 'unknown field "step"; did you mean "steps"?');
  const issues = pipelineIssues(yaml('name: pumps', 'input:', '  streams: ["*/t"]', 'stepz:', '  - output: out', 'steps:', '  - output: out'));
  assert.equal(issues.length, 1);
  assert.deepEqual([issues[0]!.line, issues[0]!.column, issues[0]!.path], [4, 1, '(top level)']);
  assert.equal(issues[0]!.message, 'unknown field "stepz"; did you mean "steps"?');
});

test('unknown nested key: did-you-mean from the keys allowed at that place', () => {
  const i = one(yaml(...HEAD, '  - windw:', '      type: tumbling'));
  assert.deepEqual([i.line, i.column, i.path], [5, 5, 'steps[0]']);
  assert.equal(i.message, 'unknown field "windw"; did you mean "window"?');
  // and the follow-on "a step needs exactly one of ..." is not reported

  const j = one(yaml(...HEAD, '  - window:', '      type: session', '      gap: 30s', '      aggregates: [mean]', '      latenes: 1s'));
  assert.deepEqual([j.line, j.column, j.path], [9, 7, 'steps[0].window']);
  assert.equal(j.message, 'unknown field "latenes"; did you mean "lateness"?');
});

test('unknown key in a union branch: candidates come from the branch the data selects', () => {
  // `slide` exists only in count windows: the data's `type` picks the branch whose keys are suggested.
  const line = '  - window: { type: count, size: 10, aggregates: [mean], slid: 5 }';
  const i = one(yaml(...HEAD, line));
  assert.equal(i.path, 'steps[0].window');
  assert.equal(i.message, 'unknown field "slid"; did you mean "slide"?');
  assert.deepEqual([i.line, i.column], [5, line.indexOf('slid') + 1]);
});

test('wrong type: names the field, what was found and what was expected', () => {
  const i = one(yaml('name: pumps', 'input:', '  streams: ["*/t"]', '  max_keys: -3', 'steps:', '  - output: out'));
  assert.deepEqual([i.line, i.column], [4, 13]);
  assert.equal(formatConfigIssue(i), 'p.yaml:4:13: error: input.max_keys: expected an integer > 0, found -3');

  const j = one(yaml(...HEAD, '  - filter: { min: low }'));
  assert.deepEqual([j.line, j.column, j.path, j.message], [5, 20, 'steps[0].filter.min', 'expected a number, found "low"']);

  const k = one(yaml('name: pumps', 'input:', '  streams: "*/t"', 'steps:', '  - output: out'));
  assert.deepEqual([k.line, k.column, k.path], [3, 12, 'input.streams']);
  assert.equal(k.message, 'expected a list of non-empty strings, found "*/t"');
});

test('bad duration: expected a duration such as ..., found "1q"', () => {
  const i = one(yaml(...HEAD, '  - window:', '      type: tumbling', '      size: 1q', '      aggregates: [mean]'));
  assert.deepEqual([i.line, i.column, i.path], [7, 13, 'steps[0].window.size']);
  assert.equal(i.message, 'expected a duration such as 500ms, 10s, 5m, 1h or 1d, found "1q"');

  const j = one(yaml(...HEAD, '  - window: { type: tumbling, size: true, aggregates: [mean] }'));
  assert.equal(j.path, 'steps[0].window.size');
  assert.equal(j.message, 'expected a duration such as 500ms, 10s, 5m, 1h or 1d, found true');
});

test('unknown aggregate and other enum values: did-you-mean, or the allowed list', () => {
  const i = one(yaml(...HEAD, '  - window:', '      type: tumbling', '      size: 1s', '      aggregates: [mean, avg]'));
  assert.deepEqual([i.line, i.column, i.path], [8, 26, 'steps[0].window.aggregates[1]']);
  assert.equal(i.message, 'unknown aggregate "avg"; did you mean "mean"?');

  const j = one(yaml(...HEAD, '  - window: { type: tumblin, size: 1s, aggregates: [mean] }'));
  assert.equal(j.path, 'steps[0].window.type');
  assert.equal(j.message, 'unknown window type "tumblin"; did you mean "tumbling"?');

  const k = one(yaml(...HEAD, '  - window: { type: tumbling, size: 1s, aggregates: [mean, zzz] }'));
  assert.match(k.message, /^expected one of count, sum, mean, .*p99, found "zzz"$/);

  const m = one(yaml(...HEAD, '  - map: { convert: c_to_ff }'));
  assert.equal(m.message, 'unknown unit conversion "c_to_ff"; did you mean "c_to_f"?');
});

test('missing required field: reported at the mapping that should hold it', () => {
  const i = one(yaml(...HEAD, '  - window:', '      type: tumbling', '      aggregates: [mean]'));
  assert.deepEqual([i.line, i.column, i.path], [6, 7, 'steps[0].window']);
  assert.equal(i.message, 'missing required field "size" (a duration such as 500ms, 10s, 5m, 1h or 1d)');

  const j = one(yaml('input:', '  streams: ["*/t"]', 'steps:', '  - output: out'));
  assert.deepEqual([j.line, j.column, j.path], [1, 1, '(top level)']);
  assert.match(j.message, /^missing required field "name"/);

  const k = one('');
  assert.equal(k.message, 'the file is empty; expected a mapping with name, input, steps');
});

test('two step kinds in one step', () => {
  const i = one(yaml(...HEAD, '  - filter: { min: 0 }', '    map: { scale: 2 }'));
  assert.deepEqual([i.line, i.column, i.path], [5, 5, 'steps[0]']);
  assert.match(i.message, /exactly one of filter, map, window, detect, output, dedupe, hold, counter, join, running, multivariate, news2, telematics; found filter and map/);
});

test('YAML syntax errors carry their line and column', () => {
  const tab = one(yaml('name: pumps', 'input:', '\tstreams: ["*/t"]'));
  assert.deepEqual([tab.line, tab.column], [3, 1]);
  assert.match(tab.message, /tabs are not allowed/);

  const indent = pipelineIssues(yaml('name: pumps', 'input:', '    streams: ["*/t"]', '  max_keys: 3', 'steps:', '  - output: out'));
  assert.ok(indent.length >= 1);
  assert.equal(indent[0]!.line, 4);
  assert.match(indent[0]!.message, /^YAML syntax: /);

  const quote = pipelineIssues(yaml('name: "pumps', 'input: {}'));
  assert.ok(quote.length >= 1);
  assert.match(quote[0]!.message, /YAML syntax: .*quote/i);
});

test('duplicate key: the second occurrence, with the line of the first', () => {
  const i = one(yaml(...HEAD, '  - window: { type: tumbling, size: 1s, aggregates: [mean] }', '    window: { type: tumbling, size: 2s, aggregates: [max] }'));
  assert.deepEqual([i.line, i.column, i.path], [6, 5, 'steps[0]']);
  assert.equal(i.message, 'duplicate key "window" (first set on line 5); a key may appear only once in a mapping');
});

test('several errors are reported at once, in file order', () => {
  const text = yaml(
    'name: Pumps',
    'input:',
    '  streams: ["pump-*/vibration"]',
    '  max_keys: 0',
    'steps:',
    '  - windw: {}',
    '  - window:',
    '      type: tumbling',
    '      size: 1q',
    '      aggregates: [avg]',
    '  - output: 3',
  );
  const err = (() => {
    try {
      parsePipelineText(text, 'several.yaml');
    } catch (e) {
      return e;
    }
    assert.fail('expected a ConfigError');
  })();
  assert.ok(err instanceof ConfigError);
  assert.deepEqual(err.lines(), [
    'several.yaml:1:7: error: name: expected a name of lower-case letters, digits, _ or -, found "Pumps"',
    'several.yaml:4:13: error: input.max_keys: expected an integer > 0, found 0',
    'several.yaml:6:5: error: steps[0]: unknown field "windw"; did you mean "window"?',
    'several.yaml:9:13: error: steps[1].window.size: expected a duration such as 500ms, 10s, 5m, 1h or 1d, found "1q"',
    'several.yaml:10:20: error: steps[1].window.aggregates[0]: unknown aggregate "avg"; did you mean "mean"?',
    'several.yaml:11:13: error: steps[2].output: expected a string or a mapping, found 3',
  ]);
  assert.match(err.message, /^6 config errors:\n/);
});

test('hop that does not divide size: at the hop value', () => {
  const i = one(yaml(...HEAD, '  - window:', '      type: hopping', '      size: 10s', '      hop: 3s', '      aggregates: [mean]'));
  assert.deepEqual([i.line, i.column, i.path], [8, 12, 'steps[0].window.hop']);
  assert.equal(i.message, 'hop (3000 ms) must divide size (10000 ms)');
});

test('window checks (hop divides size, size > 0) are reported along with errors elsewhere', () => {
  const lines = [
    'name: pumps',
    'input:',
    '  streams: ["*/t"]',
    '  max_key: 10',
    'steps:',
    '  - window: { type: hopping, size: 10s, hop: 4s, aggregates: [mean] }',
    '  - window: { type: sliding, size: 0, aggregates: [mean] }',
    '  - window: { type: count, size: 10, slide: 3, aggregates: [mean] }',
  ];
  const col = (line: number, text: string) => `${line}:${lines[line - 1]!.indexOf(text) + 1}`;
  assert.deepEqual(pipelineIssues(yaml(...lines)).map(brief), [
    '4:3 input: unknown field "max_key"; did you mean "max_keys"?',
    `${col(6, '4s')} steps[0].window.hop: hop (4000 ms) must divide size (10000 ms)`,
    '7:13 steps[1].window: a pipeline has at most one window step; use a second pipeline for a second windowing',
    `${col(7, '0,')} steps[1].window.size: size must be greater than 0`,
    '8:13 steps[2].window: a pipeline has at most one window step; use a second pipeline for a second windowing',
    `${col(8, '3,')} steps[2].window.slide: slide (3) must divide size (10)`,
  ]);
});

test('a detect or filter after a window must name an aggregate the window computes (else it would judge nothing, silently)', () => {
  const i = one(yaml(...HEAD, '  - window: { type: tumbling, size: 10s, aggregates: [mean] }', '  - detect: { detector: threshold, field: rms, above: 3 }', '  - output: out'));
  assert.deepEqual([i.line, i.path], [6, 'steps[1].detect.field']);
  assert.match(i.message, /field "rms" is not computed by the window before this step \(it computes mean, count\)/);
  const v = one(yaml(...HEAD, '  - window: { type: tumbling, size: 10s, aggregates: [mean] }', '  - filter: { min: 0 }', '  - output: out'));
  assert.match(v.message, /no "value" \(the default field\); set `field:` to one of the window's aggregates: mean, count/);
  // Computed fields and count pass; before the window, readings are not checked.
  assert.deepEqual(pipelineIssues(yaml(...HEAD, '  - filter: { field: temp, min: 0 }', '  - window: { type: tumbling, size: 10s, aggregates: [mean, rms] }', '  - detect: { detector: threshold, field: rms, above: 3 }', '  - filter: { field: count, min: 2 }', '  - output: out')), []);
});

test('a duration in a config file needs its unit: `size: 1000` is refused (ms or s?), 0 and `1s` pass', () => {
  const i = one(yaml(...HEAD, '  - window: { type: tumbling, size: 1000, aggregates: [mean] }', '  - output: out'));
  assert.deepEqual([i.line, i.path], [5, 'steps[0].window.size']);
  assert.match(i.message, /1000 has no unit; write it with one, e\.g\. 1000ms or 1000s/);
  assert.deepEqual(pipelineIssues(yaml(...HEAD, '  - window: { type: tumbling, size: 1s, lateness: 0, aggregates: [mean] }', '  - output: out')), []);
});
