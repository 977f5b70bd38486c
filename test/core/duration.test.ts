import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, parseByteSize, formatDuration } from '../../src/core/duration.js';
import { durationSchema } from '../../src/core/units.js';

test('durations parse to milliseconds', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('10s'), 10_000);
  assert.equal(parseDuration('1.5m'), 90_000);
  assert.equal(parseDuration('2h'), 7_200_000);
  assert.equal(parseDuration('1d'), 86_400_000);
  assert.equal(parseDuration(250), 250);
  assert.equal(formatDuration(90_000), '90s');
  assert.equal(formatDuration(3_600_000), '1h');
});

test('bad durations say what was expected', () => {
  assert.throws(() => parseDuration('10 parsecs'), /expected a duration such as 500ms/);
  assert.throws(() => parseDuration(-1), /expected a duration >= 0/);
  const r = durationSchema.safeParse('fast');
  assert.equal(r.success, false);
});

test('byte sizes use binary units', () => {
  assert.equal(parseByteSize('64MB'), 64 * 1024 * 1024);
  assert.equal(parseByteSize('512kib'), 512 * 1024);
  assert.equal(parseByteSize(100), 100);
  assert.throws(() => parseByteSize('lots'), /expected a size/);
});
