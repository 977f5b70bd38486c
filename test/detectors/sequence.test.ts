/**
 * The default detector's sequence rule and its memory (src/detectors/sequence.ts): a pattern it has
 * not seen is flagged, a repeated one becomes normal, a level shift is reported once, and the state
 * stays the same size however long the stream runs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DefaultDetector, DEFAULT_DETECTOR_PARAMS } from '../../src/detectors/default/detector.js';
import { SEQ_TABLE, SequenceMemory } from '../../src/detectors/default/sequence.js';
import { noise, run, series } from './helpers.js';

const WITHOUT_SEQUENCE = { detector: 'default', rules: ['range', 'spike', 'flat', 'season'] };
/** Erratic values between +5 and +25 (σ = 1 noise around 0 otherwise): inside the range an early excursion of +40 (20 readings: not a glitch, learnt) set, steps below its record. */
const burst = (j: number, sign = 1) => sign * (15 + 10 * Math.sin(j * 1.7) * Math.cos(j * 0.31));

describe('sequence memory', () => {
  const mem = () => new SequenceMemory({ bins: 8, age: 2000, short_alpha: 0.1, long: 2000 });

  it('a repeated pattern becomes normal: surprise 0 once it has been seen', () => {
    const m = mem();
    const pattern = [1, 2, 3, 4, 3, 2];
    const first = pattern.map((s) => m.observe(s));
    assert.ok(first.some((x) => x > 0), 'the first time through is new');
    for (let k = 0; k < 3; k++) for (const s of pattern) m.observe(s);
    assert.deepEqual(pattern.map((s) => m.observe(s)), [0, 0, 0, 0, 0, 0]);
  });

  it('a new sequence of known levels is surprising: the share of orders (1-3 levels of context) that did not predict it', () => {
    const m = mem();
    for (let k = 0; k < 20; k++) for (const s of [1, 2, 3, 4, 3, 2]) m.observe(s);
    // The stream is at …4, 3, 2; the habit is 2 → 1.
    assert.equal(m.observe(3), 2 / 3, '2 → 3 is known (from 1, 2, 3), after 3, 2 and 4, 3, 2 it is not');
    assert.equal(m.observe(4), 1 / 3, '3 → 4 and 2, 3 → 4 are known, 3, 2, 3 → 4 is not');
    assert.equal(m.observe(1), 1, '4 → 1 was never seen');
  });

  it('forgets: a sequence seen once is surprising again after two halvings', () => {
    const m = new SequenceMemory({ bins: 8, age: 100, short_alpha: 0.1, long: 2000 });
    for (const s of [1, 5, 1]) m.observe(s);
    for (let i = 0; i < 200; i++) m.observe(3);
    m.observe(1);
    assert.equal(m.observe(5), 1);
  });

  it('levels: bins over the span, one symbol below and one above', () => {
    const m = mem();
    assert.deepEqual([-1, 0, 0.99, 5, 9.99, 10, 11].map((x) => m.level(x, 0, 10)), [0, 1, 1, 5, 8, 8, 9]);
  });

  it('rejects a malformed snapshot with a message naming the field', () => {
    const m = mem();
    assert.throws(() => m.restore({ numbers: [1, 2], counts: '' }, 'default detector snapshot'), /sequence\.numbers/);
    assert.throws(() => m.restore({ numbers: [0, 0, 0, 0, 0, 0, 0, 0], counts: 'AAAA' }, 'default detector snapshot'), /sequence\.counts.*4096 bytes/);
  });
});

describe('default detector, sequence rule', () => {
  it('flags an erratic burst inside the remembered range that range and spike rules cannot see (5 seeds)', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const g = noise(seed);
      const s = series(4000, (i) => (i >= 300 && i < 320 ? 40 : 0) + (i >= 3000 && i < 3100 ? burst(i - 3000) : 0) + g());
      const at = run({ detector: 'default' }, s).raised.filter((i) => i >= 3000);
      assert.equal(at.length, 1, `seed ${seed}: one alert for the burst, got ${JSON.stringify(at)}`);
      assert.ok(at[0]! < 3060, `seed ${seed}: raised at ${at[0]}`);
      assert.deepEqual(run(WITHOUT_SEQUENCE, s).raised.filter((i) => i >= 3000), [], `seed ${seed}: without the sequence rule nothing is raised`);
    }
  });

  it('a burst that keeps coming back becomes normal; a new kind of burst is still flagged', () => {
    for (const seed of [1, 2, 3]) {
      const g = noise(seed);
      // The same burst every 400 readings from 1000 to 4900, then a mirrored one (negative values) at 5200.
      const s = series(5600, (i) => {
        const j = (i - 1000) % 400;
        const v = i >= 300 && i < 320 ? 40 : i >= 1000 && i < 5000 && j < 100 ? burst(j) : i >= 5200 && i < 5300 ? burst(i - 5200, -1) : 0;
        return v + g();
      });
      const r = run({ detector: 'default' }, s).raised;
      assert.equal(r.filter((i) => i >= 1000 && i < 1100).length, 1, `seed ${seed}: the first burst is flagged (${r})`);
      assert.deepEqual(r.filter((i) => i >= 1400 && i < 5200), [], `seed ${seed}: its repetitions are normal`);
      assert.equal(r.filter((i) => i >= 5200 && i < 5300).length, 1, `seed ${seed}: the new burst is flagged (${r})`);
    }
  });

  it('a level shift is raised at once and the new level becomes normal (no second alert)', () => {
    for (const seed of [1, 2, 3]) {
      const g = noise(seed);
      const r = run({ detector: 'default' }, series(6000, (i) => (i >= 3000 ? 10 : 0) + g()));
      assert.deepEqual(r.raised.filter((i) => i >= 1000), [3000], `seed ${seed}`);
    }
  });

  it('restores a snapshot from before the sequence rule (no "sequence" field): the rest of the state is kept', () => {
    const g = noise(3);
    const a = new DefaultDetector();
    for (let i = 0; i < 500; i++) a.update(1e12 + i * 1000, g());
    const { sequence: _dropped, ...old } = a.snapshot();
    const b = new DefaultDetector();
    b.restore(old);
    const { sequence: _fresh, ...kept } = b.snapshot();
    assert.deepEqual(kept, old);
    const j = b.update(1e12 + 500_000, 30);
    assert.ok(j.anomalous && j.rule !== 'warmup', `judges at once (past warm-up), not learning from scratch: ${j.rule}`);
  });

  it('state is bounded: the same number of entries after 5,000 and 200,000 readings, under 16 KB as numbers and bytes', () => {
    const d = new DefaultDetector();
    const g = noise(7);
    let x = 0;
    type Snap = { sequence: { counts: Uint8Array; numbers: number[] }; seasonal: Float64Array; state: number[]; time: number[] };
    /** Bytes the state takes as doubles and the count table. */
    const bytes = () => {
      const s = d.snapshot() as Snap;
      const numbers = s.seasonal.length + s.state.length + s.time.length + s.sequence.numbers.length;
      return 8 * numbers + s.sequence.counts.length;
    };
    let at5k = 0;
    for (let i = 0; i < 200_000; i++) {
      x += g() + (i % 7919 === 0 ? 30 * g() : 0); // a random walk with jumps: ever new levels and sequences
      d.update(1e12 + i * 1000, x);
      if (i === 5000) at5k = bytes();
    }
    assert.equal(bytes(), at5k);
    assert.ok(bytes() <= 16 * 1024, `state ${bytes()} bytes`);
    assert.equal((d.snapshot() as Snap).sequence.counts.length, SEQ_TABLE);
    assert.equal(DEFAULT_DETECTOR_PARAMS.rules.includes('sequence'), true);
  });
});
