import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deadLetterLimiter } from '../../src/runtime/dead-letter-limit.js';

test('dead letters: at most N rows per source and second; each source and each second has its own allowance', () => {
  let now = 5_000;
  const allow = deadLetterLimiter(3, () => now);
  assert.deepEqual([1, 2, 3, 4, 5].map(() => allow('input:a')), [true, true, true, false, false]);
  assert.equal(allow('pipeline:p'), true, 'another source is not held back');
  now = 5_999;
  assert.equal(allow('input:a'), false, 'same second');
  now = 6_000;
  assert.deepEqual([1, 2, 3, 4].map(() => allow('input:a')), [true, true, true, false]);
});
