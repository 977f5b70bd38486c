import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { lineDecoder } from '../../drivers/serial/formats.js';
import { serialConfigSchema } from '../helpers/schemas.js';
import { LineSplitter } from '../../drivers/serial/lines.js';
import { DropCounter } from '../../src/core/drops.js';
import type { Reading } from '../../src/core/reading.js';
import { nmea, RMC, GGA, VTG, GSV, GGA_NOFIX } from '../drivers/nmea-fixtures.js';
import { runs, tried1 } from './runs.js';
import { hostileText, numberText, timestampValue } from './arbitraries.js';

/**
 * Serial line decoders (csv, json, kv, nmea) against random and half-valid lines: no input
 * throws; every reading is well-formed; every non-blank line ends as readings, a counted drop or
 * a counted skip (header, ignored NMEA sentence) — never silently.
 */

const NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

function harness(format: 'csv' | 'json' | 'kv' | 'nmea') {
  const cfg = serialConfigSchema.parse({ path: '/dev/null', format, ...(format === 'csv' ? { csv: { columns: ['ts', 'temp', 'hum'] } } : {}) });
  const dec = lineDecoder(cfg, 'dev');
  const drops = new DropCounter(0);
  return (line: string) => {
    tried1();
    const readings: Reading[] = [];
    const dropsBefore = drops.total();
    const countersBefore = JSON.stringify(dec.counters());
    const n = dec.decode(line, 1_700_000_000_000, (r) => void readings.push(r), drops, 'fuzz');
    assert.equal(n, readings.length, 'the count returned is the readings emitted');
    for (const r of readings) {
      const [device, metric, ...rest] = r.stream.split('/');
      assert.ok(NAME.test(device!) && NAME.test(metric!) && rest.length === 0, `stream ${r.stream}`);
      assert.ok(Number.isFinite(r.value), `value ${r.value}`);
      assert.ok(Number.isFinite(r.ts), `ts ${r.ts}`);
    }
    const accounted = readings.length > 0 || drops.total() > dropsBefore || JSON.stringify(dec.counters()) !== countersBefore;
    if (line.trim() !== '') assert.ok(accounted, `line ${JSON.stringify(line)} vanished: no reading, no drop, no counter`);
  };
}

const kvLine = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom('ts', 'time', 'temp', 'hum', 'device', 'p-1', 'a.b'), hostileText(12)), fc.oneof(numberText, hostileText(12), timestampValue.map(String))), { maxLength: 8 })
  .map((kvs) => kvs.map(([k, v]) => `${k}=${v}`).join(fc.sample(fc.constantFrom(' ', ',', '\t', ' , '), 1)[0]));

const jsonLine = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.dictionary(fc.oneof(fc.constantFrom('value', 'ts', 'device', 'metric', 'temp'), hostileText(8)), fc.oneof(fc.double(), numberText, timestampValue, fc.boolean(), fc.constant(null)), { maxKeys: 8 }).map((o) => JSON.stringify(o)),
);

const csvLine = fc.array(fc.oneof(numberText, hostileText(10), timestampValue.map(String)), { maxLength: 5 }).map((cells) => cells.join(','));

const nmeaLine = fc.oneof(
  // valid checksums over random bodies of known and unknown sentence types
  fc
    .tuple(fc.constantFrom('GPRMC', 'GPGGA', 'GNGGA', 'GPVTG', 'GPGSV', 'GPGLL', 'GPZDA', 'XXXXX', ''), fc.array(fc.oneof(numberText, hostileText(8), fc.constantFrom('A', 'V', 'N', 'S', 'E', 'W', 'M', '')), { maxLength: 20 }))
    .map(([t, f]) => nmea([t, ...f].join(','))),
  // real sentences with one character changed, cut, or doubled
  fc.tuple(fc.constantFrom(RMC, GGA, VTG, GSV, GGA_NOFIX), fc.nat(), fc.string({ maxLength: 2 })).map(([s, i, c]) => {
    const at = i % (s.length + 1);
    return s.slice(0, at) + c + s.slice(at + c.length);
  }),
  fc.constantFrom(RMC, GGA, VTG, GSV, GGA_NOFIX),
);

function lines(line: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof({ weight: 3, arbitrary: line }, { weight: 1, arbitrary: hostileText(300) });
}

for (const [format, line] of [
  ['kv', kvLine],
  ['json', jsonLine],
  ['csv', csvLine],
] as const) {
  test(`serial ${format}: random and half-valid lines never throw and never vanish`, () => {
    const check = harness(format);
    fc.assert(fc.property(lines(line), (l) => check(l)), { numRuns: runs(3000) });
  });
}

test('serial nmea (line-decoder entry point): random and half-valid sentences never throw', () => {
  const cfg = serialConfigSchema.parse({ path: '/dev/null', format: 'nmea' });
  const dec = lineDecoder(cfg, 'dev');
  const drops = new DropCounter(0);
  fc.assert(
    fc.property(lines(nmeaLine), (l) => {
      tried1();
      dec.decode(l, 1_700_000_000_000, () => {}, drops, 'fuzz');
    }),
    { numRuns: runs(3000) },
  );
});

// Found by this property before the NMEA decoder was rewritten: "$GPGGA,1e20,0,A,A,1e20,0*56" gave a
// reading with ts NaN; "$GPVTG*52" and a GGA without a time ended with no reading, drop or counter.
test('serial nmea: readings are well-formed and no sentence vanishes without a count', () => {
  const check = harness('nmea');
  fc.assert(fc.property(lines(nmeaLine), (l) => check(l)), { numRuns: runs(3000) });
});

test('line splitter: any byte stream in any chunking gives lines no longer than the bound', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 20 }), (bytes, cuts) => {
      tried1();
      const lines: string[] = [];
      let tooLong = 0;
      const s = new LineSplitter(256, (l) => void lines.push(l), () => void tooLong++);
      let at = 0;
      for (let i = 0; at < bytes.length; i++) {
        const n = cuts[i % cuts.length]!;
        s.push(Buffer.from(bytes.subarray(at, at + n)));
        at += n;
      }
      for (const l of lines) assert.ok(Buffer.byteLength(l) <= 256 * 3, 'a line within the bound (as text)');
      const newlines = bytes.filter((b) => b === 10).length;
      assert.ok(lines.length + tooLong >= newlines, 'every complete line is either delivered or counted too long');
    }),
    { numRuns: runs(2000) },
  );
});
