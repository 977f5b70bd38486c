// The defects of issue 13, each with the real sentences from gpsd's regression captures
// (test/fixtures/gpsd, BSD licence beside them) that showed it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DropCounter } from '../../src/core/drops.js';
import type { Reading } from '../../src/core/reading.js';
import { NmeaDecoder, type NmeaOptions } from '../../drivers/serial/nmea.js';
import fc from 'fast-check';
import { nmea } from './nmea-fixtures.js';

function run(lines: string[], now: number, opts: Partial<NmeaOptions> = {}, dec = new NmeaDecoder('gps', opts)) {
  const out: Reading[] = [];
  const drops = new DropCounter();
  for (const l of lines) dec.decode(l, now, (r) => out.push(r), drops, 'serial /dev/test');
  const of = (m: string) => out.filter((r) => r.stream === `gps/${m}`);
  return { out, drops, of, c: dec.c, dec };
}

const iso = (ts: number) => new Date(ts).toISOString();
const TODAY = Date.UTC(2026, 11, 1, 12);

// telit-he910.log: a GGA first, the RMC of the same epoch dated 2019-03-12, then the next epoch
const TELIT = [
  '$GPGGA,105209.408,5050.4111,N,00420.8261,E,1,05,1.75,109.0,M,,M,,0000*71',
  '$GPGLL,5050.4111,N,00420.8261,E,105209.408,A,A*54',
  '$GPRMC,105209.408,A,5050.4111,N,00420.8261,E,0.02,21.49,120319,,,A*57',
  '$GPVTG,21.49,T,,M,0.02,N,0.03,K,A*02',
  '$GPGGA,105210.408,5050.4111,N,00420.8261,E,1,05,1.75,109.0,M,,M,,0000*79',
  '$GPGLL,5050.4111,N,00420.8261,E,105210.408,A,A*5C',
  '$GPRMC,105210.408,A,5050.4111,N,00420.8261,E,0.00,0.0,120319,,,A*53',
];

test('1. a GGA before the first date waits for it: whatever the gateway clock, every fix is dated by the receiver', () => {
  for (const now of [Date.UTC(2019, 2, 13), TODAY, Date.UTC(2003, 0, 1)]) {
    const { of, c, drops } = run(TELIT, now);
    assert.deepEqual(of('lat').map((r) => iso(r.ts)), ['2019-03-12T10:52:09.408Z', '2019-03-12T10:52:10.408Z'], `clock ${iso(now)}`);
    assert.equal(of('altitude_m')[0]!.ts, Date.UTC(2019, 2, 12, 10, 52, 9, 408), 'the GGA-only metric got the RMC date');
    assert.equal(of('speed_kmh').length, 2);
    assert.equal(c.nmea_time_back, 0);
    assert.equal(drops.total(), 0);
  }
});

test('1. a receiver without fix and date for a while (default times and dates), then a fix: nothing is dated by the gateway', () => {
  // mtk-3301.log: 1980 default dates and a default time before the first fix
  const mtk = [
    '$GPGGA,235946.005,8960.000000,N,00000.000000,E,0,0,,137.000,M,13.000,M,,*49',
    '$GPRMC,235946.005,V,8960.000000,N,00000.000000,E,0.000,0.00,050180,,,N*47',
    '$GPGGA,235950.004,8960.000000,N,00000.000000,E,0,0,,137.000,M,13.000,M,,*4F',
    '$GPRMC,235950.004,V,8960.000000,N,00000.000000,E,0.000,0.00,050180,,,N*41',
    '$GPGGA,081433.591,8960.000000,N,00000.000000,E,0,0,,137.000,M,13.000,M,,*43',
    '$GPRMC,081433.591,V,8960.000000,N,00000.000000,E,0.000,0.00,120180,,,N*4B',
    '$GPGGA,081436.000,5212.982135,N,00653.101394,E,1,3,2.88,102.907,M,47.093,M,,*5F',
    '$GPRMC,081436.000,A,5212.982135,N,00653.101394,E,0.039,0.00,230808,,,A*53',
  ];
  for (const now of [TODAY, Date.UTC(2008, 7, 23, 8, 15)]) {
    const { of, c } = run(mtk, now);
    assert.deepEqual(of('lat').map((r) => iso(r.ts)), ['2008-08-23T08:14:36.000Z']);
    assert.ok(of('fix_quality').every((r) => iso(r.ts).startsWith('2008-08-23T08:14')), 'no-fix readings from before the 10 s wait are let go, the rest dated by the receiver');
    assert.equal(c.nmea_dated_by_gateway, 0);
    assert.equal(c.nmea_no_fix, 6);
  }
});

test('1. a receiver that never sends a date: the undated rule (gateway clock by default, or drop, counted)', () => {
  // sounder.log: an echo sounder's GLL only
  const gll = ['$ECGLL,5119.881,N,00125.169,E,164326,A,D*52', '$ECGLL,5119.881,N,00125.169,E,164328,A,D*5C', '$ECGLL,5119.881,N,00125.169,E,164330,A,D*55', '$ECGLL,5119.881,N,00125.169,E,164332,A,D*57', '$ECGLL,5119.881,N,00125.169,E,164336,A,D*53', '$ECGLL,5119.881,N,00125.169,E,164338,A,D*5D'];
  const now = Date.UTC(2012, 0, 19, 16, 50);
  const a = run(gll.slice(0, 4), now);
  assert.equal(a.out.length, 0, 'waits while less than 10 s of receiver time went by');
  assert.equal(a.dec.waitingFixes, 4);
  assert.equal(a.c.nmea_waited_for_date, 4, 'visible while they wait');
  const b = run(gll, now);
  assert.deepEqual(b.of('lat').map((r) => iso(r.ts)), ['2012-01-19T16:43:26.000Z', '2012-01-19T16:43:28.000Z', '2012-01-19T16:43:30.000Z', '2012-01-19T16:43:32.000Z', '2012-01-19T16:43:36.000Z', '2012-01-19T16:43:38.000Z']);
  assert.equal(b.c.nmea_dated_by_gateway, 6);
  const c = run(gll, now, { undated: 'drop' });
  assert.equal(c.out.length, 0);
  assert.equal(c.drops.count('nmea_no_date'), 5);
  assert.match(c.drops.samplesFor('nmea_no_date')[0]!.detail!, /no date \(RMC or ZDA\)/);
});

test('2. fractional seconds of any length', () => {
  // haicom-305N.log (3 decimals); 1, 2 and 4 decimals built around the same sentence
  const { of } = run(['$GPRMC,095304.802,A,2712.6520,S,15303.1397,E,0.00,133.96,080407,,,A*78'], TODAY);
  assert.equal(iso(of('lat')[0]!.ts), '2007-04-08T09:53:04.802Z');
  for (const [t, ms] of [['095305.8', 800], ['095306.25', 250], ['095307.1234', 123]] as const) {
    const r = run([nmea(`GPRMC,${t},A,2712.6520,S,15303.1397,E,0.00,133.96,080407,,,A`)], TODAY);
    assert.equal(r.of('lat')[0]!.ts % 1000, ms, t);
  }
  // 5 Hz: every epoch gives its own speed
  const fiveHz = [0, 200, 400, 600, 800].map((ms) => nmea(`GPRMC,095308.${String(ms).padStart(3, '0')},A,2712.6520,S,15303.1397,E,1.00,133.96,080407,,,A`));
  assert.equal(run(fiveHz, TODAY).of('speed_kmh').length, 5);
});

test('3. valid no-fix sentences are counted as no fix or ignored, not garbled', () => {
  const { out, drops, c } = run(['$GPRMC,,V,,,,,,,,,,N*53', '$GPRMC,205150.00,V,,,,,,,,,,,V*4a', '$GPDTM,W84,C*52', '$GPGGA,,,,,,0,,,,M,,M,,*66', '$GPGLL,,,,,,V,N*64', '$GPVTG,,T,,M,,N,,K,N*2C'], TODAY);
  assert.equal(drops.total(), 0);
  assert.equal(out.length, 0);
  assert.equal(c.nmea_no_fix, 5);
  assert.equal(c.nmea_ignored, 1); // DTM
});

test('4. VTG is gated on its mode, and on the fix state when it has none', () => {
  const rmcV = '$GPRMC,205150.00,V,,,,,,,,,,,V*4a';
  const a = run([rmcV, '$GPVTG,000.0,T,,M,000.0,N,000.0,K,N*02'], TODAY);
  assert.equal(a.of('speed_kmh').length, 0, 'mode N: no speed');
  // humminbird-M37.log: VTG without a mode field (NMEA 2.0), after a GLL with a fix, then after a lost fix
  const b = run(['$INRMC,194101,A,4426.1130,N,07140.5596,W,5.2,77.3,160906,15.8,W*60', '$INGLL,4426.1130,N,07140.5579,W,194102,A*2C', '$INVTG,77.5,T,93.3,M,5.2,N,9.7,K*5B'], TODAY);
  assert.deepEqual(b.of('speed_kmh').map((r) => [iso(r.ts), +r.value.toFixed(3)]), [['2006-09-16T19:41:01.000Z', 9.63], ['2006-09-16T19:41:02.000Z', 9.63]]);
  const c = run(['$INRMC,194101,A,4426.1130,N,07140.5596,W,5.2,77.3,160906,15.8,W*60', rmcV, '$INVTG,77.5,T,93.3,M,5.2,N,9.7,K*5B'], TODAY);
  assert.equal(c.of('speed_kmh').length, 1, 'no speed from a VTG without mode once the fix is lost');
  assert.equal(c.c.nmea_no_fix, 2);
});

test('5. GGA quality 6 is reported with its kind; 7 (manual) and 8 (simulator) give no position', () => {
  // GPSmap-76S.log: a Garmin in simulator mode
  const sim = run(['$GPRMC,125106,V,3854.5087,N,07726.4523,W,0.0,0.0,241011,10.5,W,S*28', '$GPGGA,125106,3854.5087,N,07726.4523,W,8,10,2.0,268.8,M,-33.9,M,,*7F', '$GPGLL,3854.5087,N,07726.4523,W,125106,V,S*55'], Date.UTC(2011, 9, 24, 13));
  assert.equal(sim.of('lat').length, 0);
  assert.equal(sim.c.nmea_manual_or_sim, 1);
  assert.equal(sim.c.nmea_no_fix, 2);
  assert.equal(sim.dec.waitingFixes, 0, 'already counted, not waiting to be counted');
  const dr = run([nmea('GPRMC,125106,A,3854.5087,N,07726.4523,W,0.0,0.0,241011,10.5,W,E'), nmea('GPGGA,125106,3854.5087,N,07726.4523,W,6,10,2.0,268.8,M,-33.9,M,,')], TODAY);
  assert.equal(dr.of('fix_quality')[0]!.value, 6);
  assert.equal(dr.of('lat').length, 1, 'dead reckoning keeps its position, marked by fix_quality 6');
  const man = run([nmea('GPRMC,125106,A,3854.5087,N,07726.4523,W,0.0,0.0,241011,10.5,W,A'), nmea('GPGGA,125107,3854.5087,N,07726.4523,W,7,10,2.0,268.8,M,-33.9,M,,')], TODAY);
  assert.deepEqual(man.of('fix_quality').map((r) => r.value), [7]);
  assert.equal(man.of('lat').length, 1, 'only the RMC position, not the manual one');
});

test('6. impossible dates are counted; the GPS week rollover is corrected when the gateway clock is within a day', () => {
  // april6_2019.log: a Telit HE910 just after the April 2019 rollover
  const april6 = ['$GPRMC,,V,,,,,,,,,,N*53', '$GPRMC,000231.099,A,4829.0005,N,00022.0015,E,0.15,212.28,2208-1,,,A*73', '$GPRMC,000231.42,A,4829.0005,N,00022.0016,E,0.16,212.28,220899,,,A*59'];
  const live = run(april6, Date.UTC(2019, 3, 7, 0, 2, 40));
  assert.deepEqual(live.of('lat').map((r) => iso(r.ts)), ['2019-04-07T00:02:31.099Z', '2019-04-07T00:02:31.420Z']);
  assert.equal(live.c.nmea_bad_date, 1, '2208-1');
  assert.equal(live.c.nmea_week_rollover, 1);
  for (const now of [TODAY, Date.UTC(2019, 2, 14)]) {
    const replay = run(april6, now);
    assert.deepEqual(replay.of('lat').map((r) => iso(r.ts)), ['1999-08-22T00:02:31.099Z', '1999-08-22T00:02:31.420Z'], 'no clock that makes it unambiguous: the receiver date, as gpsd gives it');
    assert.equal(replay.c.nmea_week_rollover, 0);
  }
  // mtk-3301.log: the receiver's default date before a fix (1980-01-05) dates nothing
  const mtk = run(['$GPGGA,235950.004,8960.000000,N,00000.000000,E,0,0,,137.000,M,13.000,M,,*4F', '$GPRMC,235950.004,V,8960.000000,N,00000.000000,E,0.000,0.00,050180,,,N*41'], TODAY);
  assert.equal(mtk.out.length, 0);
  const bad = run([nmea('GPRMC,235950.004,A,5213.0000,N,00653.0000,E,0.000,0.00,050180,,,A'), nmea('GPRMC,120000.00,A,5213.0000,N,00653.0000,E,0.000,0.00,310299,,,A')], TODAY);
  assert.equal(bad.c.nmea_bad_date, 2, 'before the GPS epoch; 31 February');
  assert.equal(bad.out.length, 0, 'waiting for a real date');
});

test('7. receiver time going back is counted and decoding starts over; a repeated time with another position is dropped', () => {
  // humminbird-M37.log: "Time goes backward 194124 to 194111"
  const lines = ['$INRMC,194123,A,4426.1200,N,07140.5159,W,5.2,79.0,160906,15.8,W*6A', '$INGGA,194124,4426.1200,N,07140.5143,W,2,10,0.9,268.2,M,,,,*1B', '$INZDA,194124,16,09,2006,-05,00*71', '$INRMC,194111,A,4426.1203,N,07140.5121,W,5.2,81.5,160906,15.8,W*65', '$INGLL,4426.1203,N,07140.5100,W,194112,A*24', '$INRMC,194113,A,4426.1207,N,07140.5084,W,5.2,81.9,160906,15.8,W*61'];
  const { of, c } = run(lines, TODAY);
  assert.deepEqual(of('lat').map((r) => iso(r.ts).slice(11, 19)), ['19:41:23', '19:41:24', '19:41:11', '19:41:12', '19:41:13']);
  assert.equal(c.nmea_time_back, 1);
  // bt451.log: a session that ended at 15:25:08.5, then another one ("Moving in car") from 14:33:06
  const bt = run([
    '$GPZDA,152508.00,09,12,2009,00,00*6C',
    '$GPRMC,152508.50,A,5547.82156,N,02334.14086,E,0.296,,091209,,,A*76',
    '$GPVTG,,T,,M,0.296,N,0.549,K,A*26',
    '$GPGGA,152508.50,5547.82156,N,02334.14086,E,1,04,2.73,35.3,M,26.9,M,,*6E',
    '$GPGGA,143306.00,5546.83315,N,02334.72613,E,1,08,1.28,129.9,M,26.9,M,,*5B',
    '$GPGLL,5546.83315,N,02334.72613,E,143306.00,A,A*63',
    '$GPZDA,143306.00,09,12,2009,00,00*64',
    '$GPRMC,143306.50,A,5546.82983,N,02334.72123,E,30.324,221.16,091209,,,A*52',
    '$GPVTG,221.16,T,,M,30.324,N,56.191,K,A*37',
    '$GPGGA,143306.50,5546.82983,N,02334.72123,E,1,09,1.26,128.9,M,26.9,M,,*50',
    '$GPRMC,143307.00,A,5546.82649,N,02334.71625,E,30.860,221.48,091209,,,A*5D',
  ], TODAY);
  assert.deepEqual(bt.of('lat').map((r) => iso(r.ts).slice(11, 22)), ['15:25:08.50', '14:33:06.00', '14:33:06.50', '14:33:07.00']);
  assert.equal(bt.of('speed_kmh').length, 3);
  assert.equal(bt.c.nmea_time_back, 1);
  // ch-4701.log: a GGA with the time of the one before and a position 2 m away
  const rep = run(['$GPRMC,123459.000,A,5356.21596,N,02734.86645,E,00.00,252.7,290508,,,A*68', '$GPGGA,123459.000,5356.21596,N,02734.86645,E,1,05,06.0,255.7,M,26.0,M,,*61', nmea('GPGGA,123459.000,5356.21700,N,02734.86645,E,1,05,06.0,255.7,M,26.0,M,,'), nmea('GPRMC,123500.000,A,5356.21700,N,02734.86645,E,00.00,252.7,290508,,,A')], TODAY);
  assert.equal(rep.drops.count('nmea_time_repeated'), 1);
  assert.match(rep.drops.samplesFor('nmea_time_repeated')[0]!.detail!, /same receiver time 2008-05-29T12:34:59.000Z/);
  assert.equal(rep.of('lat').length, 2, 'the next epoch is not lost');
});

test('8. a leap second (23:59:60) is stamped 23:59:59.999 and the midnight after it is kept', () => {
  const lines = ['GPRMC,235959.00,A,4807.038,N,01131.000,E,0.0,0.0,311216,,,A', 'GPRMC,235960.00,A,4807.038,N,01131.000,E,0.0,0.0,311216,,,A', 'GPRMC,000000.00,A,4807.038,N,01131.000,E,0.0,0.0,010117,,,A', 'GPGGA,000001.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,'].map(nmea);
  const { of, c, drops } = run(lines, TODAY);
  assert.deepEqual(of('lat').map((r) => iso(r.ts)), ['2016-12-31T23:59:59.000Z', '2016-12-31T23:59:59.999Z', '2017-01-01T00:00:00.000Z', '2017-01-01T00:00:01.000Z']);
  assert.equal(c.nmea_leap_second, 1);
  assert.equal(c.nmea_time_back, 0);
  assert.equal(drops.total(), 0);
  assert.equal(run([nmea('GPRMC,120060.00,A,4807.038,N,01131.000,E,0.0,0.0,311216,,,A')], TODAY).drops.count('garbled'), 1, 'second 60 outside 23:59');
});

test('9. GLL and ZDA (four-digit year); GNS; midnight between a ZDA and the GGA after it', () => {
  assert.equal(run([nmea('GPGLL,4916.45,N,12311.12,W')], TODAY).drops.count('nmea_no_time'), 1, 'GLL of NMEA 1.x: a position without a time');
  assert.equal(run([nmea('GPZDA,193223.00,,,,00,00')], TODAY).c.nmea_bad_date, 0, 'a ZDA without a date is not a bad date');
  // tcp-torture.log: the date from a ZDA
  const zda = run(['$GPZDA,193223.00,23,12,2007,00,00*69', nmea('GPGGA,193223.00,2037.7279,N,08704.0848,W,1,04,1.7,-30.4,M,-13.9,M,,')], TODAY);
  assert.equal(iso(zda.of('lat')[0]!.ts), '2007-12-23T19:32:23.000Z');
  const midnight = run([nmea('GPZDA,235959.50,31,12,2007,00,00'), nmea('GPGLL,2037.7279,N,08704.0848,W,000000.50,A,A')], TODAY);
  assert.equal(iso(midnight.of('lat')[0]!.ts), '2008-01-01T00:00:00.500Z');
  // beidou-bd.log: GNS (mode letters per constellation) before the RMC of its epoch
  const gns = run(['$GNGNS,074155.799,3114.8770,N,12135.2463,E,ANNA,05,1.3,156.9,8.3,,0000*52', '$GNRMC,074155.799,A,3114.8770,N,12135.2463,E,0.30,4.94,250215,,,A*76'], TODAY);
  assert.equal(gns.of('fix_quality')[0]!.value, 1);
  assert.equal(gns.of('satellites')[0]!.value, 5);
  assert.equal(iso(gns.of('lat')[0]!.ts), '2015-02-25T07:41:55.799Z');
  assert.equal(gns.of('speed_kmh').length, 1);
});

test('9. checksum: optional for receivers that send none (a *hh present is still verified)', () => {
  // hp58534a.log: an HP 58534A never sends checksums
  const hp = ['$GPGGA,222449,3349.0337,S,01843.9282,E,1,07,02.31,000115.4,M,0033.3,M,,', '$GPZDA,222449,25,10,2010,+00,00', '$GPVTG,318.0,T,341.9,M,000.0,N,0000.1,K,A'];
  const req = run(hp, TODAY);
  assert.equal(req.drops.count('bad_checksum'), 3);
  assert.match(req.drops.samplesFor('bad_checksum')[0]!.detail!, /set checksum: optional/);
  const opt = run(hp, TODAY, { checksum: 'optional' });
  assert.equal(opt.drops.total(), 0);
  assert.equal(iso(opt.of('lat')[0]!.ts), '2010-10-25T22:24:49.000Z');
  assert.ok(Math.abs(opt.of('lat')[0]!.value - -33.817228) < 1e-6);
  assert.equal(opt.of('speed_kmh')[0]!.value, 0);
  assert.equal(run(['$GPZDA,222449,25,10,2010,+00,00*00'], TODAY, { checksum: 'optional' }).drops.count('bad_checksum'), 1);
});

test('9. resynchronise on $ after noise; a sentence cut short by the next one is dropped as garbled', () => {
  const rmc = '$GPRMC,095304.802,A,2712.6520,S,15303.1397,E,0.00,133.96,080407,,,A*78';
  const { of, c, drops } = run([`\uFFFD\uFFFDxx${rmc}`], TODAY);
  assert.equal(of('lat').length, 1);
  assert.equal(c.nmea_resync, 1);
  assert.equal(drops.total(), 0);
  // triton400.log: "$GPGGA,030130$GPGLL,..." (a lost line end)
  const cut = run(['$GPRMC,030129.0,A,2638.1726,N,08011.3892,W,0.00,219.6,010413,,*26', '$GPGGA,030130$GPGLL,2638.1728,N,08011.3893,W,030131.000,A,A*41'], TODAY);
  assert.equal(cut.drops.count('garbled'), 1);
  assert.equal(cut.of('lat').length, 2);
  // st-teseo-liv4f.log: every sentence starts with $$
  assert.equal(run(['$$GNRMC,135806.000,A,4723.00484,N,00045.88150,E,0.5,120.9,210325,,,A,C*11'], TODAY).of('lat').length, 1);
});

test('any sentence, well formed or not: no exception, and each counts exactly once (a reading, an outcome or a drop)', () => {
  const field = fc.oneof(fc.constant(''), fc.stringMatching(/^[0-9]{1,7}(\.[0-9]{0,6})?$/), fc.constantFrom('A', 'V', 'N', 'S', 'E', 'W', 'M', 'T', 'K', 'AANN', '2208-1', '235960.00', '8960.0000'), fc.string({ maxLength: 8 }));
  const body = fc.tuple(fc.constantFrom('GP', 'GN', 'BD', 'P', 'XX'), fc.constantFrom('GGA', 'RMC', 'GLL', 'GNS', 'VTG', 'ZDA', 'GSV', 'DTM'), fc.array(field, { maxLength: 14 })).map(([t, s, f]) => [t + s, ...f].join(','));
  const line = fc.oneof(body.map((b) => nmea(b)), body.map((b) => `$${b}`), fc.string({ maxLength: 40 }), body.map((b) => `\u0000${nmea(b)}`));
  fc.assert(
    fc.property(fc.array(line, { maxLength: 30 }), fc.constantFrom('required', 'optional'), fc.integer({ min: 0, max: 4e12 }), (lines, checksum, now) => {
      const { c, drops, dec } = run(lines, now, { checksum: checksum as 'required' | 'optional' });
      // A sentence cut short by the next $ is one more outcome; `!` (AIS) starts a sentence as `$` does.
      const cut = lines.filter((l) => l.trim().lastIndexOf('$') > 0 && /^[$!]/.test(l.trim()) && l.trim().slice(0, l.trim().lastIndexOf('$')).includes(',')).length;
      const outcomes = c.nmea_fixes + c.nmea_ignored + c.nmea_no_fix + c.nmea_manual_or_sim + c.nmea_time_only + c.nmea_duplicates + drops.total() + dec.waitingFixes;
      assert.equal(outcomes, lines.filter((l) => l.trim().length > 0).length + cut);
    }),
    { numRuns: 300 },
  );
});
