import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseTimestamp } from '../../drivers/common/timestamp.js';
import { runs, tried1 } from './runs.js';
import { hostileText, timestampValue } from './arbitraries.js';

/** Device timestamps (numbers and strings, ms or s) against random and edge values. */

const input = fc.oneof(timestampValue, hostileText(40), fc.double().map(String), fc.constantFrom(undefined, null, true, {}, []));

test('timestamps: any value parses to a number or to "unreadable", never an exception', () => {
  fc.assert(
    fc.property(input, fc.constantFrom('ms' as const, 's' as const), (v, unit) => {
      tried1();
      const t = parseTimestamp(v, unit);
      if (t !== undefined) assert.equal(typeof t, 'number');
    }),
    { numRuns: runs(5000) },
  );
});

// Fails today: 1e20 (and anything beyond ±8.64e15 ms) parses as a time that Date cannot hold, and
// the pipeline's far-future check then throws RangeError (issue 17, item 7); 1.8e305 with unit s
// parses as Infinity. The fix belongs to helper "time" (drivers/common/timestamp.ts,
// src/core/time.ts, src/engine); remove `todo` then.
test('timestamps: a parsed time is finite and inside the Date range (±8.64e15 ms)', { todo: 'issue 17 item 7, helper "time"' }, () => {
  fc.assert(
    fc.property(input, fc.constantFrom('ms' as const, 's' as const), (v, unit) => {
      tried1();
      const t = parseTimestamp(v, unit);
      if (t !== undefined) assert.ok(Number.isFinite(t) && Math.abs(t) <= 8.64e15, `${String(v)} → ${t}`);
    }),
    { numRuns: runs(5000) },
  );
});
