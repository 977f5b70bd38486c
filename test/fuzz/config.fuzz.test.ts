import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { checkGatewayText, checkPipelineText } from '../../src/config/load.js';
import { runs, tried1 } from './runs.js';
import { hostileText } from './arbitraries.js';
import type { ConfigIssue } from '../../src/core/config-error.js';

/**
 * YAML config and EDGEWISE_* environment overrides against random and half-valid input: the
 * loaders never throw, and every problem is an issue with a place and a short message.
 */

function wellFormed(issues: ConfigIssue[], file: string): void {
  for (const i of issues) {
    assert.ok(i.file === file || i.file.startsWith('env EDGEWISE_') || i.file.length > 0, `issue file ${i.file}`);
    assert.ok(Number.isInteger(i.line) && i.line >= 0 && Number.isInteger(i.column) && i.column >= 0);
    assert.ok(i.message.length > 0 && i.message.length < 2000, `message of ${i.message.length} chars`);
  }
}

/** Mutations of real-looking configs: random values under known keys, and random YAML text. */
const yamlValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    hostileText(20),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.constantFrom('name', 'input', 'steps', 'window', 'detect', 'kind', 'size', 'gateway', 'id', 'inputs', 'type', 'mqtt', 'broker', 'pipelines', 'upstream'), hostileText(8)), tie('v'), { maxKeys: 5 }),
  ),
})).v;

const yamlText = fc.oneof(
  yamlValue.map((v) => {
    try {
      return stringify(v);
    } catch {
      return '';
    }
  }),
  hostileText(400),
  fc.string({ unit: fc.constantFrom('a', ':', ' ', '\n', '-', '[', ']', '{', '}', '&a', '*a', '<<', '!!', '#', '"', "'", '|', '>', '\t', '?', ','), maxLength: 300 }),
);

test('pipeline YAML: any text gives a spec or issues with places, never an exception', () => {
  fc.assert(
    fc.property(yamlText, (text) => {
      tried1();
      const r = checkPipelineText(text, 'p.yaml');
      wellFormed(r.issues, 'p.yaml');
      assert.ok(r.spec !== undefined || r.issues.length > 0);
    }),
    { numRuns: runs(1500) },
  );
});

const envName = fc.oneof(
  fc.constantFrom('EDGEWISE_GATEWAY__ID', 'EDGEWISE_INPUTS__0__PORT', 'EDGEWISE_INPUTS__0__BROKER__MAX_CLIENTS', 'EDGEWISE_PIPELINES', 'EDGEWISE_LOG__LEVEL', 'EDGEWISE_GATEWAY', 'EDGEWISE_INPUTS__99999999999__X', 'EDGEWISE___', 'EDGEWISE_UPSTREAM__TLS__REJECT_UNAUTHORIZED'),
  hostileText(20).map((s) => `EDGEWISE_${s}`),
);
const envValue = fc.oneof(hostileText(60), yamlValue.map((v) => JSON.stringify(v) ?? ''), fc.constantFrom('[[[[[[', '{a: [1, {b: *x}]}', '&a [*a]', '1e400', '-0', '0x1F', `${'['.repeat(5000)}${']'.repeat(5000)}`));

test('gateway YAML with EDGEWISE_* overrides: never an exception; every issue has a place', () => {
  const base = 'gateway:\n  id: gw-1\ninputs:\n  - name: local\n    type: mqtt\npipelines: []\n';
  fc.assert(
    fc.property(fc.oneof({ weight: 3, arbitrary: fc.constant(base) }, { weight: 1, arbitrary: yamlText }), fc.dictionary(envName, envValue, { maxKeys: 4 }), (text, env) => {
      tried1();
      const r = checkGatewayText(text, 'gw.yaml', env, '/nonexistent-dir');
      wellFormed(r.issues, 'gw.yaml');
    }),
    { numRuns: runs(1000) },
  );
});
