import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DropCounter } from '../../src/core/drops.js';
import type { Reading } from '../../src/core/reading.js';
import { NmeaDecoder, CsvDecoder, KvDecoder, JsonLineDecoder, LineSplitter } from '../../drivers/serial/index.js';
import { mqttConfigSchema, serialConfigSchema } from '../helpers/schemas.js';
import { LocalZone } from '../../src/core/local-zone.js';
import { isGarbled } from '../../drivers/serial/lines.js';
import { parseTimestamp } from '../../src/core/time.js';
import { RMC, GGA, VTG, GSV, GGA_NOFIX, TS, nmea } from './nmea-fixtures.js';

function run(dec: { decode(l: string, now: number, emit: (r: Reading) => void, d: DropCounter, w: string): number }, lines: string[], now = 1_700_000_000_000) {
  const out: Reading[] = [];
  const drops = new DropCounter();
  for (const l of lines) dec.decode(l, now, (r) => out.push(r), drops, 'serial /dev/test');
  const m = Object.fromEntries(out.map((r) => [r.stream, r.value]));
  return { out, drops, m };
}

test('NMEA: RMC, GGA and VTG become lat, lon, speed, course, fix, satellites, altitude', () => {
  const d = new NmeaDecoder('gps');
  const { out, drops, m } = run(d, [RMC, GGA, VTG, GSV]);
  assert.equal(drops.total(), 0);
  assert.ok(Math.abs(m['gps/lat']! - 48.1173) < 1e-4);
  assert.ok(Math.abs(m['gps/lon']! - 11.516667) < 1e-4);
  assert.ok(Math.abs(m['gps/speed_kmh']! - 22.4 * 1.852) < 1e-9);
  assert.equal(m['gps/course_deg'], 84.4);
  assert.equal(m['gps/fix_quality'], 1);
  assert.equal(m['gps/satellites'], 8);
  assert.equal(m['gps/altitude_m'], 545.4);
  assert.equal(m['gps/hdop'], 0.9);
  assert.ok(out.every((r) => r.ts === TS), 'GGA takes the date from RMC, VTG the time of the fix');
  assert.equal(out.filter((r) => r.stream === 'gps/lat').length, 1, 'GGA and RMC of one fix give lat once');
  assert.equal(d.c.nmea_ignored, 1); // GSV
  assert.equal(d.c.nmea_duplicates, 1); // VTG: speed and course already given by RMC, not emitted again
  assert.equal(d.c.nmea_fixes, 2);
});

test('NMEA: bad checksums, garbage and no-fix sentences', () => {
  const d = new NmeaDecoder('gps');
  const broken = RMC.slice(0, -2) + '00';
  const { out, drops } = run(d, [RMC, broken, GGA.replace('4807', '4817'), 'hello world', '$GPGGA,no checksum', GGA_NOFIX]);
  assert.equal(drops.count('bad_checksum'), 3);
  assert.equal(drops.count('garbled'), 1);
  const noFix = out.filter((r) => r.ts === TS + 1000);
  assert.deepEqual(noFix.map((r) => r.stream).sort(), ['gps/fix_quality', 'gps/satellites'], 'a no-fix GGA tells fix quality 0 and satellites, no position');
  assert.equal(d.c.nmea_no_fix, 1);
  assert.equal(noFix.find((r) => r.stream === 'gps/fix_quality')!.value, 0);
  assert.match(drops.samplesFor('bad_checksum')[0]!.detail!, /checksum 00 but the sentence sums to/);
});

test('CSV: columns map to metrics; ts and device columns; wrong column counts and headers', () => {
  const d = new CsvDecoder(['ts', 'device', 'temp', '_', 'hum'], ',', 'dflt', 'ms');
  const { out, drops } = run(d, ['ts,device,temp,_,hum', '1700000000123,pump-2,21.5,x,40', '2024-03-01T12:00:00,pump-2,nan,x,41', '1,2,3', '1700000000123,bad dev,1,x,2']);
  assert.deepEqual(out, [
    { stream: 'pump-2/temp', ts: 1_700_000_000_123, value: 21.5 },
    { stream: 'pump-2/hum', ts: 1_700_000_000_123, value: 40 },
    { stream: 'pump-2/hum', ts: Date.UTC(2024, 2, 1, 12), value: 41 },
  ]);
  assert.equal(drops.count('not_a_number'), 1);
  assert.equal(drops.count('wrong_columns'), 1);
  assert.equal(drops.count('bad_name'), 1);
  assert.equal(d.headers, 1);
});

test('kv lines as the Arduino IDE\'s Serial Plotter reads them: label:value separated by commas, spaces or tabs; = still wins when both are there', () => {
  const kv = run(new KvDecoder('uno', { ts_unit: 'ms', max_fields: 8 }), ['Sensor1:23.5,Sensor2:42', 'temp:21.5\thum:40 relay:ON', 'ts=1700000000000 clock=12:30', 'ready']);
  assert.deepEqual(kv.out.map((r) => [r.stream, r.value]), [
    ['uno/Sensor1', 23.5],
    ['uno/Sensor2', 42],
    ['uno/temp', 21.5],
    ['uno/hum', 40],
    ['uno/relay', 1],
  ]);
  assert.equal(kv.drops.count('not_a_number'), 1, 'clock=12:30 is key clock, value 12:30: not a number');
  assert.match(kv.drops.samplesFor('garbled')[0]?.detail ?? '', /"ready" is not key=value or key:value/);
});

test('key=value and JSON lines', () => {
  const kv = run(new KvDecoder('env', { ts_unit: 's', max_fields: 8 }), ['temp=21.5 hum=40,ts=1700000000', 'temp=abc', 'garbage line']);
  assert.deepEqual(kv.out, [
    { stream: 'env/temp', ts: 1_700_000_000_000, value: 21.5 },
    { stream: 'env/hum', ts: 1_700_000_000_000, value: 40 },
  ]);
  assert.equal(kv.drops.count('not_a_number'), 1);
  assert.equal(kv.drops.count('garbled'), 1);
  const js = run(new JsonLineDecoder('env', { ts_unit: 'ms', max_fields: 8 }), [
    '{"device":"pump-3","metric":"temp","value":20,"ts":5}',
    '{"temp":1,"hum":2}',
    '{"temp":',
    '[1]',
  ]);
  assert.deepEqual(js.m, { 'pump-3/temp': 20, 'env/temp': 1, 'env/hum': 2 });
  assert.equal(js.out[0]!.ts, 5);
  assert.equal(js.drops.count('garbled'), 0, 'broken JSON is refused as the MQTT driver and replay refuse it');
  assert.equal(js.drops.count('bad_payload'), 2);
});

test('line splitter: CRLF, lines split across chunks, over-long lines counted and skipped with bounded memory', () => {
  const lines: string[] = [];
  const long: Array<[string, number]> = [];
  const s = new LineSplitter(16, (l) => lines.push(l), (h, n) => long.push([h, n]));
  s.push(Buffer.from('a=1\r\nb='));
  s.push(Buffer.from('2\n'));
  s.push(Buffer.from('x'.repeat(10)));
  s.push(Buffer.from('y'.repeat(10)));
  for (let i = 0; i < 100; i++) s.push(Buffer.from('z'.repeat(1000)));
  s.push(Buffer.from('zz\nc=3\n'));
  s.push(Buffer.from('d=4\r\r\n')); // telit-pls83-w.log: a modem's GPS port ends lines with \r\r\n
  assert.deepEqual(lines, ['a=1', 'b=2', 'c=3', 'd=4']);
  assert.equal(long.length, 1);
  assert.equal(long[0]![0], 'x'.repeat(10) + 'y'.repeat(10), 'the head of the line is kept as a sample');
  assert.equal(isGarbled(Buffer.from([0x41, 0x00, 0x42]), 'A\0B'), true);
  assert.equal(isGarbled(Buffer.from('ok\tline'), 'ok\tline'), false);
});

test('timestamps: ms, seconds, ISO with and without zone', () => {
  assert.equal(parseTimestamp(1_700_000_000_000, 'ms'), 1_700_000_000_000);
  assert.equal(parseTimestamp(1_700_000_000, 's'), 1_700_000_000_000);
  assert.equal(parseTimestamp('2024-03-01T12:00:00'), Date.UTC(2024, 2, 1, 12));
  assert.equal(parseTimestamp('2024-03-01 12:00:00.250'), Date.UTC(2024, 2, 1, 12, 0, 0, 250));
  assert.equal(parseTimestamp('2024-03-01T12:00:00+02:00'), Date.UTC(2024, 2, 1, 10));
  assert.equal(parseTimestamp('2024-03-01T12:00:00Z'), Date.UTC(2024, 2, 1, 12));
  assert.ok(Number.isNaN(parseTimestamp('soon')));
  assert.ok(Number.isNaN(parseTimestamp(-5, 'ms')));
});

test('serial config: format csv needs columns; typos are refused', () => {
  assert.equal(serialConfigSchema.safeParse({ path: '/dev/ttyUSB0', format: 'nmea' }).success, true);
  assert.equal(serialConfigSchema.safeParse({ path: '/dev/ttyUSB0', format: 'nmea', baudrate: 9600 }).success, false);
  assert.equal(serialConfigSchema.safeParse({ path: '/dev/ttyUSB0', format: 'xml' }).success, false);
});

test('ts_zone: date-times without a zone are wall time in the device\'s zone (winter, summer, the hours DST skips and repeats); with a zone, numeric, or without ts_zone they are as before', () => {
  const berlin = new LocalZone('Europe/Berlin');
  assert.equal(parseTimestamp('2026-12-02 13:00:00', 'ms', berlin), Date.UTC(2026, 11, 2, 12));
  assert.equal(parseTimestamp('2026-07-01T14:00:00.250', 'ms', berlin), Date.UTC(2026, 6, 1, 12, 0, 0, 250));
  assert.equal(parseTimestamp('2026-07-01T14:00', 'ms', berlin), Date.UTC(2026, 6, 1, 12), 'the slow path (no seconds)');
  assert.equal(parseTimestamp('2026-03-29 02:30:00', 'ms', berlin), Date.UTC(2026, 2, 29, 1, 30), 'skipped by spring-forward: the offset before (+1)');
  assert.equal(parseTimestamp('2026-10-25 02:30:00', 'ms', berlin), Date.UTC(2026, 9, 25, 1, 30), 'repeated by fall-back, no arrival time: its second occurrence (+1)');
  assert.equal(parseTimestamp('2026-12-02T13:00:00Z', 'ms', berlin), Date.UTC(2026, 11, 2, 13), 'a zone in the text wins');
  assert.equal(parseTimestamp('2026-12-02T13:00:00+05:00', 'ms', berlin), Date.UTC(2026, 11, 2, 8));
  assert.equal(parseTimestamp('1764680400000', 'ms', berlin), 1_764_680_400_000, 'numeric: no zone');
  assert.equal(parseTimestamp('2026-12-02 13:00:00'), Date.UTC(2026, 11, 2, 13), 'no ts_zone: UTC');
  assert.equal(new LocalZone('America/New_York').toUtc(Date.UTC(2026, 0, 15, 7)), Date.UTC(2026, 0, 15, 12));

  const csv = run(new CsvDecoder(['ts', 'temp'], ',', 'plc', 'ms', berlin), ['2026-12-02 13:00:00,21.5']);
  assert.deepEqual(csv.out, [{ stream: 'plc/temp', ts: Date.UTC(2026, 11, 2, 12), value: 21.5 }]);
  const kv = run(new KvDecoder('plc', { ts_unit: 'ms', ts_zone: 'Europe/Berlin', max_fields: 8 }), ['temp=21.5 ts=2026-12-02T13:00:00']);
  assert.deepEqual(kv.out, [{ stream: 'plc/temp', ts: Date.UTC(2026, 11, 2, 12), value: 21.5 }]);
  const json = run(new JsonLineDecoder('plc', { ts_unit: 'ms', ts_zone: 'Europe/Berlin', max_fields: 8 }), ['{"temp": 21.5, "ts": "2026-12-02 13:00:00"}']);
  assert.deepEqual(json.out, [{ stream: 'plc/temp', ts: Date.UTC(2026, 11, 2, 12), value: 21.5 }]);

  assert.equal(serialConfigSchema.safeParse({ path: '/dev/ttyUSB0', format: 'csv', csv: { columns: ['ts', 'temp'] }, ts_zone: 'Europe/Berln' }).success, false, 'an unknown zone is refused at load');
  assert.equal(mqttConfigSchema.safeParse({ topics: ['s/{device}/{metric}'], ts_zone: 'Europe/Berlin' }).success, true);
});

/** Local wall time as a device in `zone` prints it ("2026-10-25 02:30:00"), by Intl: not by the code under test. */
function wallText(zone: string, utc: number): string {
  return new Intl.DateTimeFormat('sv-SE', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(utc);
}

test('ts_zone across a fall-back: the repeated hour is read as the occurrence nearer the arrival, so a logger sending local time every minute stays in order and on time (before: an hour of readings an hour in the future, refused)', () => {
  // Fall-backs of 2026: Berlin (CEST → CET), New York (EDT → EST), Sydney (AEDT → AEST, in April),
  // Lord Howe Island (half an hour: +11 → +10:30).
  const transitions: Array<[string, number]> = [
    ['Europe/Berlin', Date.UTC(2026, 9, 25, 1)],
    ['America/New_York', Date.UTC(2026, 10, 1, 6)],
    ['Australia/Sydney', Date.UTC(2026, 3, 4, 16)],
    ['Australia/Lord_Howe', Date.UTC(2026, 3, 4, 15)],
  ];
  for (const [zone, at] of transitions) {
    const dec = new CsvDecoder(['ts', 'temp'], ',', 'plc', 'ms', new LocalZone(zone));
    const out: Reading[] = [];
    const drops = new DropCounter();
    const truth: number[] = [];
    for (let t = at - 2 * 3_600_000; t <= at + 2 * 3_600_000; t += 60_000) {
      truth.push(t);
      dec.decode(`${wallText(zone, t)},21.5`, t + 150, (r) => out.push(r), drops, 'serial /dev/test');
    }
    assert.equal(drops.total(), 0, zone);
    assert.deepEqual(out.map((r) => r.ts), truth, `${zone}: every reading at its true instant`);
    // A device clock a few minutes off, or a reading a few minutes late, still lands in its hour.
    const firstPass = at - 30 * 60_000;
    assert.equal(parseTimestamp(wallText(zone, firstPass), 'ms', new LocalZone(zone), firstPass + 7 * 60_000), firstPass, `${zone}: 7 min late`);
    assert.equal(parseTimestamp(wallText(zone, firstPass), 'ms', new LocalZone(zone), firstPass - 7 * 60_000), firstPass, `${zone}: clock 7 min fast`);
  }
  // The JSON and key=value decoders too (the MQTT driver's is the JSON one).
  const at = Date.UTC(2026, 9, 25, 0, 30); // 02:30 CEST, the first 02:30 of the night
  const json = run(new JsonLineDecoder('plc', { ts_unit: 'ms', ts_zone: 'Europe/Berlin', max_fields: 8 }), ['{"temp": 21.5, "ts": "2026-10-25 02:30:00"}'], at + 200);
  assert.equal(json.out[0]?.ts, at);
  const kv = run(new KvDecoder('plc', { ts_unit: 'ms', ts_zone: 'Europe/Berlin', max_fields: 8 }), ['temp=21.5 ts=2026-10-25T02:30:00'], at + 200);
  assert.equal(kv.out[0]?.ts, at);
});

test('ts_unit us and ns (InfluxDB line protocol, Telegraf); a time in another unit than set is dropped or refused with a hint naming the unit', () => {
  const T = Date.UTC(2026, 11, 2, 12, 0, 0, 123);
  assert.equal(parseTimestamp(T * 1000 + 456, 'us'), T);
  assert.equal(parseTimestamp(String(T * 1_000_000), 'ns'), T);
  assert.equal(parseTimestamp(T / 1000, 's'), T);
  const ns = run(new JsonLineDecoder('logger', { ts_unit: 'ms', max_fields: 8 }), [`{"temp": 1, "ts": ${T * 1_000_000}}`], T);
  assert.equal(ns.drops.count('bad_timestamp'), 1);
  assert.match(ns.drops.samplesFor('bad_timestamp')[0]?.detail ?? '', /read as nanoseconds since the epoch it is now: set ts_unit: ns/);
  const ok = run(new JsonLineDecoder('logger', { ts_unit: 'ns', max_fields: 8 }), [`{"temp": 1, "ts": ${T * 1_000_000}}`]);
  assert.deepEqual(ok.out, [{ stream: 'logger/temp', ts: T, value: 1 }]);
  assert.equal(serialConfigSchema.parse({ path: '/dev/ttyUSB0', format: 'json', ts_unit: 'us' }).ts_unit, 'us');
});
