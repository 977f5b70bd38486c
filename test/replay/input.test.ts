import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { DropCounter } from '../../src/core/drops.js';
import { readRecorded, type RecordedRow } from '../../src/replay/input.js';
import { formatTimestamp, parseTimestamp } from '../../src/core/time.js';

describe('timestamps', () => {
  test('times without a zone are UTC; zones in the text are honoured', () => {
    assert.equal(parseTimestamp('2014-02-14 14:30:00'), Date.UTC(2014, 1, 14, 14, 30));
    assert.equal(parseTimestamp('2014-02-14T14:30:00'), Date.UTC(2014, 1, 14, 14, 30));
    assert.equal(parseTimestamp('2014-02-14 14:30:00.250000'), Date.UTC(2014, 1, 14, 14, 30, 0, 250));
    assert.equal(parseTimestamp('2014-02-14T14:30:00Z'), Date.UTC(2014, 1, 14, 14, 30));
    assert.equal(parseTimestamp('2014-02-14T16:30:00+02:00'), Date.UTC(2014, 1, 14, 14, 30));
    assert.equal(parseTimestamp('1392388200'), Date.UTC(2014, 1, 14, 14, 30));
    assert.equal(parseTimestamp('1392388200000'), Date.UTC(2014, 1, 14, 14, 30));
  });

  test('what is not a time is NaN, never a guess', () => {
    for (const s of ['', 'yesterday', '2014-13-01 00:00:00', '2014-02-14 25:00:00', '14/02/2014']) assert.ok(Number.isNaN(parseTimestamp(s)), s);
  });

  test('formatting round-trips the NAB style', () => {
    const t = parseTimestamp('2014-02-14 14:30:00');
    assert.equal(formatTimestamp(t), '2014-02-14 14:30:00');
  });
});

async function readAll(text: string, name: string, opts = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-input-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  const drops = new DropCounter();
  const rows: RecordedRow[] = [];
  try {
    for await (const r of readRecorded(file, { drops, ...opts })) rows.push(r);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { rows, drops };
}

describe('recorded files', () => {
  test('NAB: timestamp,value; the device is the file name', async () => {
    const { rows } = await readAll('timestamp,value\n2014-02-14 14:30:00,1.5\n2014-02-14 14:35:00,2\n', 'machine_temp.csv');
    assert.deepEqual(rows.map((r) => r.readings), [
      [{ stream: 'machine_temp/value', ts: Date.UTC(2014, 1, 14, 14, 30), value: 1.5 }],
      [{ stream: 'machine_temp/value', ts: Date.UTC(2014, 1, 14, 14, 35), value: 2 }],
    ]);
    assert.equal(rows[0]!.time, '2014-02-14 14:30:00');
    assert.equal(rows[0]!.line, 2);
  });

  test('SKAB: ;-separated, several sensors a row, label columns never read', async () => {
    const text = 'datetime;Accelerometer1RMS;Current;anomaly;changepoint\n2020-03-09 10:14:33;0.0265;1.33;0.0;0.0\n';
    const { rows } = await readAll(text, '7.csv', { device: 'pump' });
    assert.deepEqual(rows[0]!.readings.map((r) => [r.stream, r.value]), [['pump/Accelerometer1RMS', 0.0265], ['pump/Current', 1.33]]);
  });

  test('a stream column, quoted cells, and a BOM', async () => {
    const { rows } = await readAll('\uFEFFtime,stream,value\n2024-01-01T00:00:00Z,"pump-1/temp",20.5\n', 'x.csv');
    assert.deepEqual(rows[0]!.readings, [{ stream: 'pump-1/temp', ts: Date.UTC(2024, 0, 1), value: 20.5 }]);
  });

  test('bad rows are counted, not fatal; bad cells reach the engine as NaN to be counted there', async () => {
    const { rows, drops } = await readAll('timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00\nnot a time,2\n2014-01-01 00:10:00,abc\n', 'x.csv');
    assert.equal(drops.count('wrong_columns'), 1);
    assert.match(drops.samplesFor('wrong_columns')[0]!.detail!, /x\.csv:3: expected 2 columns, found 1/);
    assert.equal(rows.length, 3);
    assert.ok(Number.isNaN(rows[1]!.ts));
    assert.ok(Number.isNaN(rows[2]!.readings[0]!.value));
  });

  test('a decimal comma in a file whose columns a ";" or a tab separates (a European spreadsheet\'s export) is a decimal point; with a thousands separator the cell is no number (counted by the engine)', async () => {
    for (const d of [';', '\t']) {
      const { rows } = await readAll(`timestamp${d}value\n2014-01-01 00:00:00${d}4,5\n2014-01-01 00:05:00${d}-0,25\n2014-01-01 00:10:00${d}1.234,5\n2014-01-01 00:15:00${d}7\n`, 'x.csv');
      const values = rows.map((r) => r.readings[0]!.value);
      assert.deepEqual([values[0], values[1], values[3]], [4.5, -0.25, 7]);
      assert.ok(Number.isNaN(values[2]), `1.234,5 is not guessed at: ${values[2]}`);
    }
  });

  test('a row with more cells than the header names is refused (a decimal comma: "4,5" is not read as 4), unless the extra cells are empty (trailing delimiters)', async () => {
    const { rows, drops } = await readAll('timestamp,value\n2014-01-01 00:00:00,1,\n2014-01-01 00:05:00,4,5\n2014-01-01 00:10:00,6,,\n', 'x.csv');
    assert.deepEqual(rows.map((r) => r.readings[0]!.value), [1, 6]);
    assert.equal(drops.count('wrong_columns'), 1);
    assert.match(drops.samplesFor('wrong_columns')[0]!.detail!, /x\.csv:3: expected 2 columns as the header names, found 3 \(a decimal comma\?/);
  });

  test('JSON lines: stream or device+metric, ms or ISO times; garbage lines counted', async () => {
    const text = [
      '{"stream":"a/x","ts":1700000000000,"value":1}',
      '{"device":"b","metric":"y","timestamp":"2024-01-01 00:00:00","value":2,"tags":{"unit":"C"}}',
      '{"stream":"a/x","ts":1700000000,"value":"oops"}',
      'not json',
      '[1,2]',
    ].join('\n');
    const { rows, drops } = await readAll(text, 'r.jsonl');
    assert.equal(rows.length, 3);
    assert.deepEqual(rows[0]!.readings[0], { stream: 'a/x', ts: 1700000000000, value: 1 });
    assert.deepEqual(rows[1]!.readings[0], { stream: 'b/y', ts: Date.UTC(2024, 0, 1), value: 2, tags: { unit: 'C' } });
    assert.equal(rows[2]!.readings[0]!.ts, 1700000000000, 'epoch seconds become ms');
    assert.equal(drops.count('bad_payload'), 2);
  });

  test('a header that names no value column is a clear error', async () => {
    await assert.rejects(readAll('timestamp\n2014-01-01 00:00:00\n', 'x.csv'), /names no value column/);
  });
});
