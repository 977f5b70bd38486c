import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { METRICS } from '../../src/http/metrics.js';

test('docs/operations.md lists every metric the gateway exports, with its labels', () => {
  const doc = readFileSync('docs/operations.md', 'utf8');
  for (const m of METRICS) {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${m.name}\` |`));
    assert.ok(row, `${m.name} is documented`);
    for (const l of m.labels) assert.ok(row.includes(`\`${l}\``), `${m.name}: label ${l} is documented`);
  }
  for (const name of ['edgewise_detector_score', 'edgewise_storage_written_bytes_total']) assert.ok(doc.includes(`| \`${name}\` |`), name);
});
