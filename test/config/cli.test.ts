import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');
const FIXTURES = 'test/fixtures/config';

function edgewise(args: string[], env: Record<string, string> = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEWISE_')));
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { ...clean, ...env, NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('validate: exit 0 and an ok line per valid file', () => {
  const r = edgewise(['validate', `${FIXTURES}/good-pipeline.yaml`, `${FIXTURES}/gateway.yaml`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `ok ${FIXTURES}/good-pipeline.yaml (pipeline fixture-good)\nok ${FIXTURES}/gateway.yaml (gateway fixture-gw, 3 pipelines)\n`);
});

test('validate: exit 1 with every error on stderr, valid files still reported ok', () => {
  const r = edgewise(['validate', `${FIXTURES}/bad-pipeline.yaml`, `${FIXTURES}/good-pipeline.yaml`]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, `ok ${FIXTURES}/good-pipeline.yaml (pipeline fixture-good)\n`);
  assert.equal(
    r.stderr,
    [
      `${FIXTURES}/bad-pipeline.yaml:5:5: error: steps[0]: unknown field "windw"; did you mean "window"?`,
      `${FIXTURES}/bad-pipeline.yaml:6:37: error: steps[1].window.size: expected a duration such as 500ms, 10s, 5m, 1h or 1d, found "1q"`,
      `${FIXTURES}/bad-pipeline.yaml:6:54: error: steps[1].window.aggregates[0]: unknown aggregate "avg"; did you mean "mean"?`,
      'edgewise validate: 1 of 2 files invalid (3 errors)',
      '',
    ].join('\n'),
  );
});

test('validate: env overrides apply to gateway configs, and a bad one names the variable', () => {
  const r = edgewise(['validate', `${FIXTURES}/gateway.yaml`], { EDGEWISE_LOG__LEVEL: 'loud' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^env EDGEWISE_LOG__LEVEL: error: log\.level: expected one of .*found "loud"$/m);
  const ignored = edgewise(['validate', '--no-env', `${FIXTURES}/gateway.yaml`], { EDGEWISE_LOG__LEVEL: 'loud' });
  assert.equal(ignored.code, 0, ignored.stderr);
});

test('validate: a missing file and --kind', () => {
  const r = edgewise(['validate', `${FIXTURES}/none.yaml`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /none\.yaml: error: cannot read: no such file/);
  const k = edgewise(['validate', '--kind', 'gateway', `${FIXTURES}/good-pipeline.yaml`]);
  assert.equal(k.code, 1);
  assert.match(k.stderr, /missing required field "gateway"/);
});

test('validate --help and schema --check', () => {
  const h = edgewise(['validate', '--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /Usage: edgewise validate/);
  const c = edgewise(['schema', '--check']);
  assert.equal(c.code, 0, c.stderr);
});
