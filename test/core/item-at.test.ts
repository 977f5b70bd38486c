import { test } from 'node:test';
import assert from 'node:assert/strict';
import { itemAt } from '../../src/core/item-at.js';

test('itemAt: the item at an index that exists, or a RangeError naming the list and the index', () => {
  assert.equal(itemAt(['a', 'b'], 1, 'letters'), 'b');
  assert.equal(itemAt(new Float64Array([0, 2.5]), 0, 'values'), 0, 'a zero is an item, not a miss');
  assert.throws(() => itemAt(['a'], 1, 'letters'), { name: 'RangeError', message: /^letters: no item at index 1 \(1 items\)/ });
  assert.throws(() => itemAt([], -1, 'journal: pending entries'), /journal: pending entries: no item at index -1 \(0 items\)/);
});
