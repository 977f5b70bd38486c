import assert from 'node:assert/strict';
import { serialize } from 'node:v8';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeStateData, encodeStateData } from '../../src/state/state-codec.js';

describe('checkpoint row codec (src/state/state-codec.ts)', () => {
  it('round-trips detector-like state exactly: typed arrays of every kind, NaN, Infinity, -0, Maps, nested objects, Buffers', () => {
    const state = [
      ['dev/a', { kind: 'default', state: [1, NaN, Infinity, -0], seasonal: Float64Array.from([NaN, 1.5, -Infinity]), sequence: { counts: Uint8Array.from([1, 2, 255]), numbers: [0.1] } }],
      ['dev/b', { m: new Map<string, unknown>([['x', Int32Array.from([-1, 7])], ['y', null]]), f32: Float32Array.from([0.25]), u16: Uint16Array.from([65535]), big: BigInt64Array.from([-5n]), buf: Buffer.from('hi') }],
      ['dev/c', { empty: new Float64Array(0), odd: new Uint8Array([9, 9, 9]), after: Float64Array.from([3]) }],
    ];
    const back = decodeStateData(encodeStateData(state)) as typeof state;
    assert.deepEqual(back, state);
    const b = back[1]![1] as { buf: unknown; m: Map<string, unknown> };
    assert.ok(Buffer.isBuffer(b.buf), 'a Buffer comes back as a Buffer');
    assert.ok(b.m.get('x') instanceof Int32Array);
    assert.ok(Object.is(((back[0]![1] as { state: number[] }).state)[3], -0));
  });

  it('typed arrays are stored raw after the structure (not through v8.serialize), and views of a larger buffer store only their bytes', () => {
    const big = new Float64Array(10_000).fill(1);
    const view = big.subarray(10, 20);
    const enc = encodeStateData({ view });
    assert.equal(enc.subarray(0, 4).toString('latin1'), 'EWS2');
    assert.ok(enc.length < 200, `only the view's 80 bytes: ${enc.length}`);
    assert.deepEqual(decodeStateData(enc), { view: Float64Array.from(view) });
  });

  it('reads rows written before this format (plain v8.serialize)', () => {
    const old = [['dev/a', { seasonal: [Float64Array.from([1, NaN])], n: 3 }]];
    assert.deepEqual(decodeStateData(serialize(old)), old);
  });

  it('refuses damaged data with a clear error rather than wrong state', () => {
    const enc = encodeStateData({ a: Float64Array.from([1, 2, 3]) });
    assert.throws(() => decodeStateData(enc.subarray(0, enc.length - 8)), /runs past the end/);
  });

  it('any JSON-like value with typed arrays round-trips (property)', () => {
    const leaf = fc.oneof(fc.double(), fc.integer(), fc.string(), fc.boolean(), fc.constant(null), fc.float64Array({ maxLength: 20 }), fc.uint8Array({ maxLength: 20 }), fc.int32Array({ maxLength: 5 }));
    const value = fc.letrec((tie) => ({ node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 5 }), tie('node'), { maxKeys: 4, noNullPrototype: true })) })).node;
    fc.assert(fc.property(value, (v) => assert.deepEqual(decodeStateData(encodeStateData(v)), v)), { numRuns: 300 });
  });
});
