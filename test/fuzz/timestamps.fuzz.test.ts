import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseTimestamp } from '../../src/core/time.js';
import { runs, tried1 } from './runs.js';
import { hostileText, timestampValue } from './arbitraries.js';

/** Device timestamps (numbers and strings, ms or s) against random and edge values. */

const input = fc.oneof(timestampValue, hostileText(40), fc.double().map(String), fc.constantFrom(undefined, null, true, {}, []));

test('timestamps: any value parses to a number or to NaN ("unreadable"), never an exception', () => {
  fc.assert(
    fc.property(input, fc.constantFrom('ms' as const, 's' as const), (v, unit) => {
      tried1();
      const t = parseTimestamp(v, unit);
      assert.equal(typeof t, 'number');
    }),
    { numRuns: runs(5000) },
  );
});

// Issue 17, item 7: 1e20 (beyond ±8.64e15 ms) used to parse as a time Date cannot hold, and the
// pipeline's far-future check then threw RangeError; 1.8e305 with unit s parsed as Infinity.
test('timestamps: a parsed time is finite and inside the Date range (±8.64e15 ms)', () => {
  fc.assert(
    fc.property(input, fc.constantFrom('ms' as const, 's' as const), (v, unit) => {
      tried1();
      const t = parseTimestamp(v, unit);
      if (!Number.isNaN(t)) assert.ok(Number.isFinite(t) && Math.abs(t) <= 8.64e15, `${String(v)} → ${t}`);
    }),
    { numRuns: runs(5000) },
  );
});
