import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Reading } from '../../src/core/reading.js';
import { decodeBlock, JournalBlockWriter, type JournalEntry } from '../../src/outbox/journal-blocks.js';
import { runs, tried1 } from '../fuzz/runs.js';

/** The journal's block codec (src/outbox/journal-blocks.ts): whatever goes in comes back, exactly and in order. */

const streamArb = fc.oneof(fc.constantFrom('d1/t', 'd2/t', 'pump-7/vibration_rms', 'ü/€'), fc.string({ minLength: 1, maxLength: 80 }));
const numberArb = fc.oneof(fc.double(), fc.integer({ min: -1e15, max: 1e15 }), fc.constantFrom(0, -0, Number.NaN, Number.POSITIVE_INFINITY, 1.767e12 + 0.5));
const keyArb = fc.string({ maxLength: 6 }).filter((k) => k !== '__proto__');
const readingArb: fc.Arbitrary<Reading> = fc
  .record(
    {
      stream: streamArb,
      ts: numberArb,
      value: numberArb,
      fields: fc.dictionary(keyArb, fc.oneof(numberArb, fc.string({ maxLength: 10 }), fc.boolean()), { maxKeys: 3, noNullPrototype: true }),
      tags: fc.dictionary(keyArb, fc.string({ maxLength: 10 }), { maxKeys: 2, noNullPrototype: true }),
    },
    { requiredKeys: ['stream', 'ts', 'value'] },
  )
  .map((r) => ({ ...r }) as Reading);
/** Readings the columns do not hold: v8-serialised whole. */
const oddArb: fc.Arbitrary<Reading> = fc.oneof(
  readingArb.map((r) => ({ ...r, odd: [1, 'x'] }) as unknown as Reading),
  readingArb.map((r) => ({ ...r, fields: { list: [r.value] } }) as unknown as Reading),
);
const entryArb = fc.oneof(
  { weight: 1, arbitrary: fc.record({ step: fc.integer({ min: 1, max: 3 }), at: numberArb }).map((e) => ({ ...e, tick: true as const })) },
  { weight: 6, arbitrary: fc.record({ step: fc.integer({ min: 1, max: 300 }), at: fc.double({ noNaN: true }), reading: fc.oneof({ weight: 5, arbitrary: readingArb }, { weight: 1, arbitrary: oddArb }), src: fc.option(fc.string({ maxLength: 30 }), { nil: undefined }) }) },
);

test('journal blocks: any entries, positions with gaps included, decode to what was written; a replay from inside a block gets the rest', () => {
  const w = new JournalBlockWriter();
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1e12 }), fc.array(entryArb, { minLength: 1, maxLength: 60 }), fc.nat(), (start, raw, cut) => {
      tried1();
      let pos = start - 1;
      const entries: JournalEntry[] = raw.map((e) => {
        pos += e.step;
        if ('tick' in e) return { pos, at: e.at, tick: true };
        return e.src === undefined ? { pos, at: e.at, reading: e.reading } : { pos, at: e.at, reading: e.reading, src: e.src };
      });
      w.reset();
      for (const e of entries) w.add(e);
      assert.equal(w.first, entries[0]!.pos);
      assert.equal(w.last, entries.at(-1)!.pos);
      assert.equal(w.count, entries.length);
      assert.equal(w.srcs, entries.filter((e) => 'src' in e).length);
      const data = Buffer.from(w.data());
      assert.deepEqual([...decodeBlock(data, -Infinity, w.first)], entries);
      const after = entries[cut % entries.length]!.pos;
      assert.deepEqual([...decodeBlock(data, after, w.first)], entries.filter((e) => e.pos > after));
    }),
    { numRuns: runs(300) },
  );
});

test('journal blocks: a cut-short or unknown block is an error that says so, never a wrong entry', () => {
  const w = new JournalBlockWriter();
  w.reset();
  w.add({ pos: 1, at: 5, reading: { stream: 'd1/t', ts: 1, value: 2 } });
  const data = Buffer.from(w.data());
  assert.throws(() => [...decodeBlock(data.subarray(0, 4), -Infinity, 1)], /journal block cut short/);
  const other = Buffer.from(data);
  other[0] = 9;
  assert.throws(() => [...decodeBlock(other, -Infinity, 1)], /journal block of format 9/);
});

test('journal blocks: the writer remembers stream names from block to block, yet every block names its streams itself (also once it has forgotten them all)', () => {
  const w = new JournalBlockWriter();
  const blockOf = (streams: string[], first: number): Buffer => {
    w.reset();
    for (const [i, stream] of streams.entries()) w.add({ pos: first + i, at: 1, reading: { stream, ts: i, value: i } });
    return Buffer.from(w.data());
  };
  const streamsOf = (data: Buffer, first: number) => [...decodeBlock(data, -Infinity, first)].map((e) => ('reading' in e ? e.reading.stream : ''));
  const one = blockOf(['a/t', 'b/t', 'a/t'], 1);
  const two = blockOf(['b/t', 'c/t', 'a/t', 'b/t'], 4);
  assert.deepEqual(streamsOf(one, 1), ['a/t', 'b/t', 'a/t']);
  assert.deepEqual(streamsOf(two, 4), ['b/t', 'c/t', 'a/t', 'b/t'], 'a block decodes alone: names of an earlier block are written again');
  // More names than the writer keeps: it forgets them at the next block, and blocks still decode alone.
  const many = Array.from({ length: 17_000 }, (_, i) => `d${i}/t`);
  assert.deepEqual(streamsOf(blockOf(many, 100), 100), many);
  assert.deepEqual(streamsOf(blockOf(['d5/t', 'a/t', 'd5/t'], 20_000), 20_000), ['d5/t', 'a/t', 'd5/t']);
});
