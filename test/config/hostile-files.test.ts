import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkGatewayText, checkPipelineText, loadPipelineFile, type ConfigError, formatConfigIssue } from '../../src/config/load.js';
import { validateFile } from '../../src/cli/validate.js';
import { yaml } from './helpers.js';

/** Config files made to hurt the loader (issue 17, defect 8): every one ends in a clear FILE:LINE error. */

const dir = mkdtempSync(join(tmpdir(), 'edgewise-hostile-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const GOOD = readFileSync(new URL('../../pipelines/telematics.yaml', import.meta.url), 'utf8');

test('deeply nested flow lists: a clear error at the line, no stack overflow or OOM', () => {
  const n = 200_000;
  const text = `name: p\nsteps:\n  - a: ${'['.repeat(n)}${']'.repeat(n)}\n`;
  const { issues } = checkPipelineText(text, 'deep.yaml');
  assert.equal(issues.length, 1);
  assert.match(formatConfigIssue(issues[0]!), /^deep\.yaml:3:\d+: error: .*nested deeper than 64 levels/);
});

test('deep block nesting: a clear error at the line', () => {
  let text = '';
  for (let i = 0; i < 1400; i++) text += `${' '.repeat(i)}a:\n`;
  const { issues } = checkPipelineText(text, 'block.yaml');
  assert.equal(issues.length, 1);
  assert.match(formatConfigIssue(issues[0]!), /^block\.yaml:65:\d+: error: .*nested deeper than 64 levels/);
});

test('ordinary nesting is fine', () => {
  assert.deepEqual(checkPipelineText(GOOD, 'ok.yaml').issues, []);
  const text = `name: p\nx: ${'['.repeat(40)}${']'.repeat(40)}\n`;
  assert.doesNotMatch(JSON.stringify(checkPipelineText(text, 'p.yaml').issues), /nested deeper/);
});

test('a file bigger than 1 MiB is refused before parsing', () => {
  const f = join(dir, 'big.yaml');
  writeFileSync(f, `name: p\n# ${'x'.repeat(1_100_000)}\n`);
  assert.throws(() => loadPipelineFile(f), (e: ConfigError) => /big\.yaml: error: .*1100\d+ bytes.*larger than 1 MiB/.test(e.message));
});

test('a device or FIFO as a pipeline file is refused, not read (/dev/zero would never end)', () => {
  const r = checkGatewayText(yaml('gateway:', '  id: gw', 'pipelines:', '  - /dev/zero'), join(dir, 'gw.yaml'));
  assert.match(r.issues.map(formatConfigIssue).join('\n'), /gw\.yaml:4:\d+: error: pipelines\[0\]: pipeline file \/dev\/zero: not a regular file/);
  assert.throws(() => loadPipelineFile('/dev/zero'), /\/dev\/zero: error: .*not a regular file/);
  assert.match(validateFile('/dev/zero').issues.map(formatConfigIssue).join('\n'), /not a regular file/);
});

test('a glob from the file-system root is refused without walking it', () => {
  const r = checkGatewayText(yaml('gateway:', '  id: gw', 'pipelines:', '  - "/**/*.yaml"', '  - "../../../../../../../../**/*.yaml"'), join(dir, 'gw.yaml'));
  const text = r.issues.map(formatConfigIssue).join('\n');
  assert.match(text, /gw\.yaml:4:\d+: error: pipelines\[0\]: .*"\/\*\*\/\*\.yaml" would search the whole file system/);
  assert.match(text, /gw\.yaml:5:\d+: error: pipelines\[1\]: .*would search the whole file system/);
});

test('a glob in a folder still works, within a depth and count limit', () => {
  mkdirSync(join(dir, 'p'), { recursive: true });
  writeFileSync(join(dir, 'p', 'a.yaml'), GOOD);
  const r = checkGatewayText(yaml('gateway:', '  id: gw', 'pipelines:', '  - p/*.yaml'), join(dir, 'gw.yaml'));
  assert.deepEqual(r.issues.filter((i) => /pipelines/.test(i.path)), []);
  assert.equal(r.pipelines.length, 1);
});

test('a file that is not YAML config is never echoed (/etc/passwd)', () => {
  const r = checkGatewayText(yaml('gateway:', '  id: gw', 'pipelines:', '  - /etc/passwd'), join(dir, 'gw.yaml'));
  const text = r.issues.map(formatConfigIssue).join('\n');
  assert.match(text, /\/etc\/passwd:1:1: error: not a YAML mapping/);
  assert.doesNotMatch(text, /root|nologin|bin\/bash/);
  const v = validateFile('/etc/passwd').issues.map(formatConfigIssue).join('\n');
  assert.doesNotMatch(v, /root|nologin|bin\/bash/);
  // a long string value is cut in messages
  const long = checkPipelineText(yaml('name: p', `input: "${'s3cr3t'.repeat(100)}"`), 'p.yaml').issues.map(formatConfigIssue).join('\n');
  assert.ok(long.length < 400, long);
});

test('aliases: one without its anchor, or a billion laughs, is an issue at a line, not an exception', () => {
  assert.match(checkPipelineText('name: p\nx: *nowhere\n', 'a.yaml').issues.map(formatConfigIssue).join('\n'), /^a\.yaml:2:4: error: YAML aliases: unresolved alias/);
  const laughs = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 9; i++) laughs.push(`${'abcdefghij'[i]}: &${'abcdefghij'[i]} [${Array(10).fill(`*${'abcdefghij'[i - 1]}`).join(', ')}]`);
  assert.match(checkPipelineText(laughs.join('\n'), 'l.yaml').issues.map(formatConfigIssue).join('\n'), /l\.yaml:\d+:\d+: error: YAML aliases: excessive alias count/);
});

test('an environment value nested too deep is not read as YAML', () => {
  const r = checkGatewayText(yaml('gateway:', '  id: gw', 'pipelines: []'), join(dir, 'gw.yaml'), { EDGEWISE_PIPELINES: `${'['.repeat(60_000)}${']'.repeat(60_000)}` });
  const text = r.issues.map(formatConfigIssue).join('\n');
  assert.match(text, /env EDGEWISE_PIPELINES: error: pipelines: expected a list of strings, found "\[\[\[.*… \(120000 characters\)/);
});
