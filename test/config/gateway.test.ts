import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ConfigError, checkGatewayText, loadGatewayFile } from '../../src/config/load.js';
import { formatConfigIssue } from '../../src/core/config-error.js';
import { yaml } from './helpers.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/config');

test('loading a gateway loads its pipelines (globs and files, relative to the config file)', () => {
  const g = loadGatewayFile(join(FIXTURES, 'gateway.yaml'), {});
  assert.equal(g.config.gateway.id, 'fixture-gw');
  assert.equal(g.dir, FIXTURES);
  assert.deepEqual(g.pipelines.map((p) => p.spec.name), ['fixture-a', 'fixture-b', 'fixture-good']);
  assert.equal(g.config.inputs.length, 1);
});

test('errors from every pipeline file, missing files, empty globs and duplicate names, all at once', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-gw-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'p'));
  const ok = yaml('name: same', 'input:', '  streams: ["*/t"]', 'steps:', '  - output: out');
  writeFileSync(join(dir, 'p/1.yaml'), ok);
  writeFileSync(join(dir, 'p/2.yaml'), ok);
  writeFileSync(join(dir, 'p/3.yaml'), yaml('name: three', 'input:', '  streams: ["*/t"]', 'steps:', '  - outpt: out'));
  const text = yaml('gateway:', '  id: gw-1', 'pipelines:', '  - p/*.yaml', '  - missing.yaml', '  - nothing/*.yaml');
  const file = join(dir, 'edgewise.yaml');
  writeFileSync(file, text);
  const r = checkGatewayText(text, file, {});
  const shown = (p: string) => {
    const rel = relative(process.cwd(), join(dir, p));
    return rel.startsWith('..') ? join(dir, p) : rel;
  };
  const lines = r.issues.map(formatConfigIssue);
  assert.deepEqual(lines.sort(), [
    `${file}:5:5: error: pipelines[1]: pipeline file ${shown('missing.yaml')}: no such file`,
    `${file}:6:5: error: pipelines[2]: no file matches "nothing/*.yaml" (relative to ${shown('')})`,
    `${shown('p/2.yaml')}:1:7: error: name: pipeline name "same" is also used by ${shown('p/1.yaml')}:1; pipeline names must be unique in a gateway`,
    `${shown('p/3.yaml')}:5:5: error: steps[0]: unknown field "outpt"; did you mean "output"?`,
  ].sort());
  assert.throws(() => loadGatewayFile(file, {}), (e: unknown) => e instanceof ConfigError && e.issues.length === 4);
});

test('a file that cannot be read is a ConfigError naming it', () => {
  assert.throws(() => loadGatewayFile(join(FIXTURES, 'nope.yaml'), {}), (e: unknown) => e instanceof ConfigError && /nope\.yaml: error: cannot read: no such file/.test(e.message));
});
