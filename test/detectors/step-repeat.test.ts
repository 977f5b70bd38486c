/**
 * The detect step and a reading that arrives twice (same stream, time and value): a QoS 1 resend,
 * a LoRaWAN uplink heard by two gateways, a bridge that forwards twice. It is no new evidence and
 * is not judged again. Judged again it was a second reading with a step of 0: the default
 * detector's typical step halved, a +2 shift of two hours went unseen, and alerts multiplied.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileDetect } from '../../src/compile.js';
import { detectStepSchema } from '../helpers/schemas.js';
import { noise, T0 } from './helpers.js';

const MIN = 60_000;
const DAY = 86_400_000;

/** A 1-minute temperature (20 ± 2 daily, noise 0.3) for 8 days, +2 from day 6 for two hours; `twice(i)`: reading i is sent twice. */
function alerts(step: Record<string, unknown>, seed: number, twice: (i: number) => boolean): { raised: number[]; shiftFound: boolean } {
  const s = compileDetect(detectStepSchema.parse(step));
  const st = s.createKeyState('dev/temp');
  const g = noise(seed);
  const raised: number[] = [];
  let shiftFound = false;
  for (let i = 0; i * MIN < 8 * DAY; i++) {
    const t = i * MIN;
    const inShift = t >= 6 * DAY && t < 6 * DAY + 2 * 3_600_000;
    const v = 20 + 2 * Math.sin((2 * Math.PI * t) / DAY) + 0.3 * g() + (inShift ? 2 : 0);
    for (let k = twice(i) ? 2 : 1; k > 0; k--) {
      const o = s.update(st, T0 + t, v);
      if (o.alert?.state === 'raised') {
        raised.push(i);
        if (inShift) shiftFound = true;
      }
    }
  }
  return { raised, shiftFound };
}

describe('detect step, a reading sent twice', () => {
  for (const detector of ['default', 'robust_z', 'ewma']) {
    it(`${detector}: every reading, or one in ten, sent twice raises the same alerts as each sent once`, () => {
      for (let seed = 1; seed <= 3; seed++) {
        const once = alerts({ detector }, seed, () => false);
        assert.deepEqual(alerts({ detector }, seed, () => true), once, `seed ${seed}: every reading twice`);
        assert.deepEqual(alerts({ detector }, seed, (i) => i % 10 === 3), once, `seed ${seed}: one in ten twice`);
      }
    });
  }

  it('default: the shift is found and alerts do not multiply (before: missed in most runs, 10–30 times the alerts)', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const r = alerts({ detector: 'default' }, seed, () => true);
      assert.equal(r.shiftFound, true, `seed ${seed}`);
      assert.ok(r.raised.length <= 4, `seed ${seed}: ${r.raised.length} alerts`);
    }
  });

  it('a repeat is no confirmation: with min_readings 2 one anomalous reading sent twice raises nothing', () => {
    const s = compileDetect(detectStepSchema.parse({ detector: 'threshold', above: 10, alert: { min_readings: 2 } }));
    const st = s.createKeyState('dev/x');
    const events: string[] = [];
    const feed = (i: number, v: number) => {
      const o = s.update(st, T0 + i * 1000, v);
      if (o.alert) events.push(`${i}:${o.alert.state}`);
      return o;
    };
    for (let i = 0; i < 5; i++) feed(i, 1);
    const first = feed(5, 50);
    assert.equal(first.anomalous, true);
    const again = feed(5, 50);
    assert.equal(again.anomalous, false, 'the repeat has no opinion');
    assert.equal(again.score, 0);
    feed(6, 1);
    assert.deepEqual(events, [], 'one anomalous reading, sent twice, is still one');
    feed(7, 50);
    feed(8, 50);
    assert.deepEqual(events, ['8:raised'], 'two anomalous readings at different times are two');
  });

  it('a restart between a reading and its resend: the saved step remembers the last reading, so the resend is still no confirmation', () => {
    const spec = detectStepSchema.parse({ detector: 'threshold', above: 10, alert: { min_readings: 2 } });
    const s = compileDetect(spec);
    const st = s.createKeyState('dev/x');
    for (let i = 0; i < 5; i++) s.update(st, T0 + i * 1000, 1);
    assert.equal(s.update(st, T0 + 5000, 50).anomalous, true);
    const saved = structuredClone(s.snapshot(st));
    assert.deepEqual((saved as { last?: unknown }).last, [T0 + 5000, 50]);
    const after = compileDetect(spec);
    const restored = after.restore('dev/x', saved);
    const again = after.update(restored, T0 + 5000, 50);
    assert.equal(again.anomalous, false, 'the resend after the restart has no opinion');
    assert.equal(again.alert, undefined, 'and confirms nothing');
    // A state saved before the last reading was kept restores as before: the next reading is judged.
    delete (saved as { last?: unknown }).last;
    assert.equal(after.update(after.restore('dev/x', saved), T0 + 5000, 50).anomalous, true);
    assert.throws(() => after.restore('dev/x', { ...(saved as object), last: ['x'] }), /saved "last" must be \[ts, value\]/);
  });

  it('what is not a repeat is judged: the same time with another value (coarse timestamps), the same value at another time (a stuck sensor)', () => {
    const s = compileDetect(detectStepSchema.parse({ detector: 'threshold', above: 10 }));
    const st = s.createKeyState('dev/x');
    assert.equal(s.update(st, T0, 1).anomalous, false);
    assert.equal(s.update(st, T0, 50).anomalous, true, 'same time, another value');
    assert.equal(s.update(st, T0 + 1000, 50).anomalous, true, 'same value, another time');
    assert.equal(s.update(st, T0 + 1000, 50).anomalous, false, 'the repeat');
    assert.equal(s.update(st, T0 + 1000, 50).anomalous, false, 'and again');
  });
});
