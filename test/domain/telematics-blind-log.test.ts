/**
 * The telematics step's blind log (src/domain/telematics/blind-log.ts): what is kept of harsh
 * manoeuvres while forward is unknown, and its bounds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlindLog } from '../../src/domain/telematics/blind-log.js';
import type { Vec3 } from '../../src/domain/telematics/vec.js';

const G: Vec3 = [0, 0, 9.81];
/** Lowest limit 3 m/s², release 0.7 (recorded from 2.1 m/s²), sustain 500 ms. */
const log = () => new BlindLog(3, 0.7, 500);

/** `ms` of horizontal acceleration `x` (m/s², along the sensor's x) at `hz`, from `t0`: the count of excursions counted. */
function feed(b: BlindLog, t0: number, ms: number, x: number, hz = 50): number {
  let counted = 0;
  for (let t = t0; t < t0 + ms; t += 1000 / hz) if (b.add(t, [x, 0, 0], G, 1000 / hz)) counted++;
  return counted;
}

describe('telematics blind log', () => {
  it('keeps an excursion that lasts the limit through `sustain`, from where it passed release × limit to where it fell back under', () => {
    const b = log();
    feed(b, 0, 1000, 0.5);
    feed(b, 1000, 200, 2.5); // over release, under the limit
    assert.equal(feed(b, 1200, 800, 4), 1);
    feed(b, 2000, 200, 2.5);
    feed(b, 2200, 1000, 0.5);
    const [e, ...rest] = b.take();
    assert.equal(rest.length, 0);
    assert.deepEqual([e!.ts[0], e!.ts.at(-1), e!.end, e!.ts.length, e!.counted], [1000, 2160, 2200, 30, true]);
    assert.deepEqual(e!.h.slice(0, 3), [2.5, 0, 0]);
    assert.deepEqual(e!.g, G);
    assert.equal(b.size, 0, 'taken: the log is empty');
  });

  it('a short jolt or one under the limit is not kept; the one going on is handed over even before it counts', () => {
    const b = log();
    assert.equal(feed(b, 0, 300, 5), 0); // 300 ms over the limit: too short
    feed(b, 300, 200, 0);
    feed(b, 500, 2000, 2.8); // long, under the limit
    feed(b, 2500, 200, 0);
    assert.equal(b.size, 0);
    feed(b, 2700, 200, 4); // going on, not yet counted
    const taken = b.take();
    assert.deepEqual(taken.map((e) => [e.ts.length, Number.isNaN(e.end), e.counted]), [[5, true, false]]);
  });

  it('bounded: the newest 32 excursions, 128 samples each at most one per 39 ms; every one counted', () => {
    const b = log();
    let counted = 0;
    for (let i = 0; i < 40; i++) {
      counted += feed(b, i * 10_000, 1000, 4);
      feed(b, i * 10_000 + 1000, 500, 0);
    }
    counted += feed(b, 500_000, 8000, 4, 100); // 8 s at 100 Hz
    feed(b, 508_000, 100, 0);
    assert.equal(counted, 41);
    const kept = b.take();
    assert.equal(kept.length, 32);
    assert.deepEqual([kept[0]!.ts[0], kept.at(-2)!.ts[0], kept.at(-1)!.ts[0]], [90_000, 390_000, 500_000]);
    const long = kept.at(-1)!;
    assert.equal(long.ts.length, 128);
    assert.equal(long.ts[1]! - long.ts[0]!, 40, 'a 100 Hz sample every 40 ms');
    assert.equal(long.h.length, 3 * 128);
  });

  it('saved and loaded through JSON, it goes on as before; a damaged sample is refused with its field', () => {
    const a = log();
    const b = log();
    for (const x of [a]) {
      feed(x, 0, 1000, 4);
      feed(x, 1000, 100, 0);
      feed(x, 1100, 700, 4);
    }
    b.load(JSON.parse(JSON.stringify(a.save())));
    for (const x of [a, b]) {
      feed(x, 1800, 300, 4);
      feed(x, 2100, 100, 0);
    }
    assert.deepEqual(b.take(), a.take());
    const bad = JSON.parse(JSON.stringify(a.save()));
    feed(a, 0, 1000, 4);
    feed(a, 1000, 100, 0);
    const saved = a.save() as { closed: Array<{ h: unknown[] }> };
    saved.closed[0]!.h[4] = 'x';
    assert.throws(() => log().load(saved), /blind\.closed\[0\]\.h must be a number, found "x"/);
    log().load(bad);
    log().load({ since: null, counted: false }); // saved before 2026-12-06: no samples
  });
});
