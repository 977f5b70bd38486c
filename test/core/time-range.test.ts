import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatTimestamp, isoTime, MAX_DATE_MS, parseTimestamp } from '../../src/core/time.js';

test('times beyond the Date range are not times, and never throw', () => {
  for (const v of [1e20, '1e20', '100000000000000000000', 8.64e15 + 1, -1e20]) {
    assert.ok(Number.isNaN(parseTimestamp(v, 'ms')), String(v));
    assert.ok(Number.isNaN(parseTimestamp(v, 's')), String(v));
  }
  assert.ok(Number.isNaN(parseTimestamp(1e13, 's')), '1e13 s is beyond the range in ms');
  assert.equal(parseTimestamp(MAX_DATE_MS, 'ms'), MAX_DATE_MS);
  assert.ok(Number.isNaN(parseTimestamp('100000000000000000000')));
  assert.ok(Number.isNaN(parseTimestamp('1e20')));
  assert.equal(formatTimestamp(1e20), '100000000000000000000');
  assert.equal(isoTime(1e20), '100000000000000000000 ms (outside the date range)');
  assert.equal(isoTime(0), '1970-01-01T00:00:00.000Z');
});

test('property: no number or numeric text makes the timestamp parsers or formatters throw', () => {
  fc.assert(
    fc.property(fc.oneof(fc.double(), fc.integer(), fc.bigInt().map(String), fc.double().map(String), fc.string()), (v) => {
      const a = parseTimestamp(v, 'ms');
      assert.ok(Number.isNaN(a) || (Number.isFinite(a) && Math.abs(a) <= MAX_DATE_MS));
      parseTimestamp(v, 's');
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

test('one timestamp rule: numbers in the stated unit (auto: below 1e11 is seconds), texts as numbers or date-times, never negative', () => {
  const sec = 1_700_000_000;
  for (const v of [sec, String(sec), ` ${sec} `, `${sec}.0`]) {
    assert.equal(parseTimestamp(v, 's'), sec * 1000, `${JSON.stringify(v)} s`);
    assert.equal(parseTimestamp(v, 'auto'), sec * 1000, `${JSON.stringify(v)} auto`);
    assert.equal(parseTimestamp(v, 'ms'), sec, `${JSON.stringify(v)} ms`);
  }
  assert.equal(parseTimestamp(sec * 1000, 'auto'), sec * 1000, 'auto: 1e11 and above is ms');
  assert.equal(parseTimestamp(99_999_999_999, 'auto'), 99_999_999_999_000, 'auto: just below 1e11 is seconds');
  assert.equal(parseTimestamp(1.7e9, 'auto'), 1.7e12, 'exponent notation is a number');
  assert.equal(parseTimestamp('1.7e9', 'auto'), 1.7e12);
  assert.equal(parseTimestamp(1_700_000_000_000.4, 'ms'), 1_700_000_000_000, 'rounded to whole ms');
  assert.equal(parseTimestamp('2024-03-01 12:00:00', 'ms'), Date.UTC(2024, 2, 1, 12), 'a date-time ignores the unit; no zone is UTC');
  for (const bad of [-1, '-1', -0.5, '', '  ', 'soon', NaN, Infinity, null, undefined, {}, true]) {
    for (const unit of ['ms', 's', 'auto'] as const) assert.ok(Number.isNaN(parseTimestamp(bad, unit)), `${String(bad)} ${unit}`);
  }
});
