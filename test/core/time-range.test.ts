import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseTimestamp as parseDriverTs } from '../../drivers/common/timestamp.js';
import { formatTimestamp, isoTime, MAX_DATE_MS, parseTimestamp } from '../../src/core/time.js';

test('times beyond the Date range are not times, and never throw', () => {
  for (const v of [1e20, '1e20', '100000000000000000000', 8.64e15 + 1, -1e20]) {
    assert.equal(parseDriverTs(v), undefined, String(v));
    assert.equal(parseDriverTs(v, 's'), undefined, String(v));
  }
  assert.equal(parseDriverTs(1e13, 's'), undefined, '1e13 s is beyond the range in ms');
  assert.equal(parseDriverTs(MAX_DATE_MS), MAX_DATE_MS);
  assert.ok(Number.isNaN(parseTimestamp('100000000000000000000')));
  assert.ok(Number.isNaN(parseTimestamp('1e20')));
  assert.equal(formatTimestamp(1e20), '100000000000000000000');
  assert.equal(isoTime(1e20), '100000000000000000000 ms (outside the date range)');
  assert.equal(isoTime(0), '1970-01-01T00:00:00.000Z');
});

test('property: no number or numeric text makes the timestamp parsers or formatters throw', () => {
  fc.assert(
    fc.property(fc.oneof(fc.double(), fc.integer(), fc.bigInt().map(String), fc.double().map(String), fc.string()), (v) => {
      const a = parseDriverTs(v);
      assert.ok(a === undefined || (Number.isFinite(a) && Math.abs(a) <= MAX_DATE_MS));
      parseDriverTs(v, 's');
      const b = parseTimestamp(String(v));
      assert.ok(Number.isNaN(b) || Math.abs(b) <= MAX_DATE_MS);
      if (typeof v === 'number') {
        formatTimestamp(v);
        isoTime(v);
      }
    }),
    { numRuns: 2000 },
  );
});

test('serial kv and JSON lines with ts 1e20: one counted bad_timestamp per line, nothing half-emitted', async () => {
  const { DropCounter } = await import('../../src/core/drops.js');
  const { KvDecoder, JsonLineDecoder } = await import('../../drivers/serial/index.js');
  for (const [dec, line] of [
    [new KvDecoder('env', { ts_unit: 'ms', max_fields: 8 }), 'ts=1e20 temp=1 hum=2'],
    [new JsonLineDecoder('env', { ts_unit: 'ms', max_fields: 8 }), '{"ts":1e20,"temp":1,"hum":2}'],
  ] as const) {
    const drops = new DropCounter();
    const out: unknown[] = [];
    assert.doesNotThrow(() => dec.decode(line, 1_700_000_000_000, (r) => out.push(r), drops, 'serial /dev/test'));
    assert.deepEqual(out, [], line);
    assert.deepEqual(drops.counters(), { bad_timestamp: 1 }, line);
  }
});
