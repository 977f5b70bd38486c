import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedFiles } from '../../src/config/schema-json.js';
import { undocumentedFields } from '../../src/config/docs.js';

const ROOT = join(import.meta.dirname, '../..');

test('committed JSON Schemas and docs/configuration.md match the code (run `npm run schema` to update)', () => {
  for (const f of generatedFiles()) {
    let committed = '';
    try {
      committed = readFileSync(join(ROOT, f.path), 'utf8');
    } catch {
      assert.fail(`${f.path} is missing: run \`npm run schema\``);
    }
    assert.ok(committed === f.content, `${f.path} is out of date: run \`npm run schema\` (edgewise schema --write) and commit it`);
  }
});

test('every config field has a description (the docs are generated from them)', () => {
  assert.deepEqual(undocumentedFields(), []);
});

test('the pipeline JSON Schema describes the fields editors complete', () => {
  const schema = JSON.parse(generatedFiles().find((f) => f.path === 'pipelines/schema.json')!.content);
  assert.equal(schema.type, 'object');
  assert.deepEqual(Object.keys(schema.properties), ['name', 'description', 'input', 'steps']);
  assert.equal(schema.additionalProperties, false);
  assert.deepEqual(schema.required, ['name', 'input', 'steps']);
});

test('docs/configuration.md marks only fields that must be written as required (defaults and optional fields are not)', () => {
  const doc = generatedFiles().find((f) => f.path === 'docs/configuration.md')!.content;
  const cellOf = (field: string) => {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${field}\` |`));
    assert.ok(row, `docs/configuration.md has no row for ${field}`);
    return row.split('|')[3]!.trim();
  };
  for (const f of ['log', 'upstream.tls', 'steps[].detect.alert', 'inputs[].topics', 'inputs[].ts_keys', 'inputs[].broker']) {
    assert.notEqual(cellOf(f), '**required**', `${f} has a default or is optional`);
  }
  assert.equal(cellOf('gateway.id'), '**required**');
  assert.equal(cellOf('steps[].detect.periods'), '`[1d, 7d]`');
});
