import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { formatConfigIssue } from '../../src/core/config-error.js';
import { checkGatewayText, checkPipelineText, detectConfigKind } from '../../src/config/load.js';

const ROOT = join(import.meta.dirname, '../..');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(e.name) ? [p] : [];
  });
}

test('every shipped pipelines/**/*.yaml validates', () => {
  const files = yamlFiles(join(ROOT, 'pipelines'));
  assert.ok(files.length > 0, 'no pipelines shipped');
  const problems: string[] = [];
  for (const abs of files) {
    const file = relative(ROOT, abs);
    const text = readFileSync(abs, 'utf8');
    const issues = detectConfigKind(text) === 'gateway' ? checkGatewayText(text, file, {}).issues : checkPipelineText(text, file).issues;
    problems.push(...issues.map(formatConfigIssue));
  }
  assert.deepEqual(problems, []);
});

test('shipped example pipelines point editors at the schema', () => {
  for (const abs of yamlFiles(join(ROOT, 'pipelines/examples'))) {
    const first = readFileSync(abs, 'utf8').split('\n')[0];
    assert.equal(first, '# yaml-language-server: $schema=../schema.json', relative(ROOT, abs));
  }
});
