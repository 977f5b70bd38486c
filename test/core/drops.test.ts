import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DropCounter, countsByName } from '../../src/core/drops.js';

test('drop counts come out in code-unit order of their reasons, whatever the locale (no ICU collation: it costs ~3 MB resident once used)', () => {
  const c = new DropCounter();
  for (const r of ['b', 'B', 'ab', 'a_b', 'a', 'b']) c.drop(r, null);
  assert.deepEqual(Object.entries(c.counters()), [['B', 1], ['a', 1], ['a_b', 1], ['ab', 1], ['b', 2]]);
  assert.deepEqual(Object.keys(countsByName(new Map([['z', 1], ['Z', 2], ['_', 3]]))), ['Z', '_', 'z']);
});
