import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  news2Band,
  news2Score,
  scoreAirOrOxygen,
  scoreConsciousness,
  scorePulse,
  scoreRespirationRate,
  scoreSpo2Scale1,
  scoreSpo2Scale2,
  scoreSystolicBp,
  scoreTemperature,
  toAcvpu,
  type News2Observations,
} from '../../src/domain/news2/news2.js';

/** [value, expected sub-score]: both sides of every boundary of the RCP 2017 chart. */
const EDGES = {
  respiration: [[0, 3], [8, 3], [9, 1], [11, 1], [12, 0], [20, 0], [21, 2], [24, 2], [25, 3], [40, 3]],
  spo2Scale1: [[70, 3], [91, 3], [92, 2], [93, 2], [94, 1], [95, 1], [96, 0], [100, 0]],
  systolic: [[60, 3], [90, 3], [91, 2], [100, 2], [101, 1], [110, 1], [111, 0], [219, 0], [220, 3], [260, 3]],
  pulse: [[30, 3], [40, 3], [41, 1], [50, 1], [51, 0], [90, 0], [91, 1], [110, 1], [111, 2], [130, 2], [131, 3], [180, 3]],
  temperature: [[33.0, 3], [35.0, 3], [35.1, 1], [36.0, 1], [36.1, 0], [38.0, 0], [38.1, 1], [39.0, 1], [39.1, 2], [41.0, 2]],
} as const;

for (const [name, fn, cases] of [
  ['respiration rate', scoreRespirationRate, EDGES.respiration],
  ['SpO2 scale 1', scoreSpo2Scale1, EDGES.spo2Scale1],
  ['systolic BP', scoreSystolicBp, EDGES.systolic],
  ['pulse', scorePulse, EDGES.pulse],
  ['temperature', scoreTemperature, EDGES.temperature],
] as const) {
  test(`NEWS2 ${name}: both sides of every band edge`, () => {
    for (const [v, want] of cases) assert.equal(fn(v), want, `${name} ${v} should score ${want}`);
  });
}

test('NEWS2 SpO2 scale 2: 88-92 scores 0 on air or oxygen; >= 93 scores 0 on air and 1/2/3 on oxygen', () => {
  const both: Array<[number, number]> = [[75, 3], [83, 3], [84, 2], [85, 2], [86, 1], [87, 1], [88, 0], [92, 0]];
  for (const [v, want] of both) {
    assert.equal(scoreSpo2Scale2(v, false), want, `scale 2, ${v} on air`);
    assert.equal(scoreSpo2Scale2(v, true), want, `scale 2, ${v} on oxygen`);
    assert.equal(scoreSpo2Scale2(v, undefined), want, `scale 2, ${v}, air/oxygen unknown: not needed below 93`);
  }
  const onOxygen: Array<[number, number]> = [[92, 0], [93, 1], [94, 1], [95, 2], [96, 2], [97, 3], [100, 3]];
  for (const [v, want] of onOxygen) assert.equal(scoreSpo2Scale2(v, true), want, `scale 2, ${v} on oxygen`);
  for (const v of [93, 94, 95, 96, 97, 100]) assert.equal(scoreSpo2Scale2(v, false), 0, `scale 2, ${v} on air`);
  assert.equal(scoreSpo2Scale2(95, undefined), undefined, 'scale 2 >= 93 cannot be scored without knowing air/oxygen');
});

test('NEWS2 air or oxygen and consciousness (ACVPU)', () => {
  assert.equal(scoreAirOrOxygen(false), 0);
  assert.equal(scoreAirOrOxygen(true), 2);
  assert.equal(scoreConsciousness('A'), 0);
  for (const c of ['C', 'V', 'P', 'U'] as const) assert.equal(scoreConsciousness(c), 3);
  assert.deepEqual([0, 1, 2, 3, 4].map((n) => toAcvpu(n)), ['A', 'C', 'V', 'P', 'U']);
  assert.equal(toAcvpu('alert'), 'A');
  assert.equal(toAcvpu('confused'), 'C');
  assert.equal(toAcvpu(5), undefined);
  assert.equal(toAcvpu(1.5), undefined);
  assert.equal(toAcvpu('sleepy'), undefined);
});

test('NEWS2 values between chart steps are rounded half up to the chart resolution', () => {
  assert.equal(scorePulse(90.4), 0);
  assert.equal(scorePulse(90.5), 1);
  assert.equal(scoreRespirationRate(20.49), 0);
  assert.equal(scoreRespirationRate(20.5), 2);
  assert.equal(scoreTemperature(35.04), 3);
  assert.equal(scoreTemperature(35.05), 1);
  assert.equal(scoreTemperature(38.04), 0);
  assert.equal(scoreTemperature(38.05), 1);
  assert.equal(scoreTemperature(39.05), 2);
  assert.equal(scoreSpo2Scale1(95.5), 0);
  assert.equal(scoreSystolicBp(90.49), 3);
});

const NORMAL: News2Observations = { respirationRate: 16, spo2: 97, onOxygen: false, systolicBp: 120, pulse: 72, consciousness: 'A', temperature: 37.0 };

test('NEWS2 total, sub-scores and bands: low, low-medium, medium, high', () => {
  const n = news2Score(NORMAL);
  assert.equal(n.total, 0);
  assert.equal(n.band, 'low');
  assert.equal(n.rule, 'total 0-4');
  assert.equal(n.complete, true);
  assert.deepEqual(n.missing, []);
  assert.deepEqual(n.subScores, { respiration_rate: 0, spo2: 0, air_or_oxygen: 0, systolic_bp: 0, pulse: 0, consciousness: 0, temperature: 0 });

  // total 4 without a 3: low (upper edge)
  const four = news2Score({ ...NORMAL, onOxygen: true, respirationRate: 21 });
  assert.equal(four.total, 4);
  assert.equal(four.band, 'low');
  // a single 3 with total 3: low-medium
  const red = news2Score({ ...NORMAL, consciousness: 'C' });
  assert.equal(red.total, 3);
  assert.equal(red.band, 'low-medium');
  assert.match(red.rule, /single parameter scored 3: consciousness/);
  assert.deepEqual(red.redScores, ['consciousness']);
  // a single 3 with total 4: still low-medium
  const red4 = news2Score({ ...NORMAL, spo2: 91, temperature: 38.5 });
  assert.equal(red4.total, 4);
  assert.equal(red4.band, 'low-medium');
  // total 5 (lower edge of medium), no 3
  const five = news2Score({ ...NORMAL, onOxygen: true, pulse: 115, temperature: 38.5 });
  assert.equal(five.total, 5);
  assert.equal(five.band, 'medium');
  assert.equal(five.rule, 'total 5-6');
  // total 5 with a 3: medium takes precedence over low-medium
  const fiveRed = news2Score({ ...NORMAL, systolicBp: 85, respirationRate: 22 });
  assert.equal(fiveRed.total, 5);
  assert.equal(fiveRed.band, 'medium');
  // total 6 (upper edge of medium)
  const six = news2Score({ ...NORMAL, onOxygen: true, pulse: 115, respirationRate: 22 });
  assert.equal(six.total, 6);
  assert.equal(six.band, 'medium');
  // total 7 (lower edge of high)
  const seven = news2Score({ ...NORMAL, onOxygen: true, pulse: 115, respirationRate: 22, temperature: 38.5 });
  assert.equal(seven.total, 7);
  assert.equal(seven.band, 'high');
  assert.equal(seven.rule, 'total >= 7');
  // the worst case: 3+3+2+3+3+3+2 = 19... with scale 2 on oxygen at 97 %: 3
  const worst = news2Score({ respirationRate: 30, spo2: 97, spo2Scale: 2, onOxygen: true, systolicBp: 80, pulse: 140, consciousness: 'U', temperature: 40 });
  assert.equal(worst.total, 3 + 3 + 2 + 3 + 3 + 3 + 2);
  assert.equal(worst.band, 'high');
});

test('news2Band at every edge', () => {
  assert.equal(news2Band(0, []).band, 'low');
  assert.equal(news2Band(4, []).band, 'low');
  assert.equal(news2Band(3, ['pulse']).band, 'low-medium');
  assert.equal(news2Band(4, ['pulse']).band, 'low-medium');
  assert.equal(news2Band(5, []).band, 'medium');
  assert.equal(news2Band(5, ['pulse']).band, 'medium');
  assert.equal(news2Band(6, ['pulse']).band, 'medium');
  assert.equal(news2Band(7, []).band, 'high');
  assert.equal(news2Band(19, ['pulse']).band, 'high');
});

test('NEWS2 scale 2 inside a full score: oxygen at 96 % scores 2 for SpO2 plus 2 for oxygen', () => {
  const s = news2Score({ ...NORMAL, spo2: 96, spo2Scale: 2, onOxygen: true });
  assert.equal(s.subScores.spo2, 2);
  assert.equal(s.subScores.air_or_oxygen, 2);
  assert.equal(s.total, 4);
  assert.equal(s.spo2Scale, 2);
  const onAir = news2Score({ ...NORMAL, spo2: 96, spo2Scale: 2, onOxygen: false });
  assert.equal(onAir.total, 0);
  const s1 = news2Score({ ...NORMAL, spo2: 96, onOxygen: true });
  assert.equal(s1.subScores.spo2, 0, 'scale 1: 96 % on oxygen scores 0 for SpO2');
});

test('NEWS2 missing parameters are listed, never scored as normal', () => {
  const s = news2Score({ pulse: 72, spo2: 97 });
  assert.equal(s.complete, false);
  assert.deepEqual(s.missing, ['respiration_rate', 'air_or_oxygen', 'systolic_bp', 'consciousness', 'temperature']);
  assert.equal(s.missingReasons.temperature, 'not observed');
  assert.equal(s.total, 0);
  assert.equal(s.maxPossibleTotal, 3 + 2 + 3 + 3 + 3);
  assert.deepEqual(Object.keys(s.subScores), ['spo2', 'pulse']);

  const bad = news2Score({ ...NORMAL, pulse: NaN, spo2: 140, consciousness: 'sleepy' as never, onOxygen: 7 });
  assert.deepEqual(bad.missing, ['spo2', 'air_or_oxygen', 'pulse', 'consciousness']);
  assert.match(bad.missingReasons.pulse!, /not a finite number/);
  assert.match(bad.missingReasons.spo2!, /outside/);
  assert.match(bad.missingReasons.consciousness!, /not an ACVPU level/);

  const scale2 = news2Score({ ...NORMAL, spo2: 95, spo2Scale: 2, onOxygen: undefined });
  assert.ok(scale2.missing.includes('spo2'));
  assert.ok(scale2.missing.includes('air_or_oxygen'));
  assert.match(scale2.missingReasons.spo2!, /scale 2/);

  const empty = news2Score({});
  assert.equal(empty.missing.length, 7);
  assert.equal(empty.band, 'low');
  assert.equal(empty.maxPossibleTotal, 20);
});
