/**
 * Every curated mutant still applies: its original text is in its file exactly once. A change
 * that moves or rewrites that text fails here, in `npm test`, not minutes into CI's mutation
 * check (three did on 2026-12-05).
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { locate } from './locate.js';
import { MUTANTS } from './mutants.js';

test('every mutant of test/mutation/mutants.ts finds its original text exactly once', () => {
  const root = resolve(import.meta.dirname, '../..');
  const problems = MUTANTS.flatMap((m) => {
    const at = locate(root, m);
    return 'error' in at ? [`${m.id}: ${at.error}`] : [];
  });
  assert.deepEqual(problems, []);
  assert.equal(new Set(MUTANTS.map((m) => m.id)).size, MUTANTS.length, 'mutant ids are unique');
});
