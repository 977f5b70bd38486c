import { deserialize, serialize } from 'node:v8';

/**
 * How a checkpoint row's data is encoded: the structure with v8.serialize (structured clone:
 * NaN, Infinity, Maps survive), the bytes of its typed arrays appended raw after it. Detector
 * state is mostly typed arrays, and v8's serializer copies their bytes at a fraction of memcpy's
 * speed: a checkpoint of 400 default-detector streams spent ~20 ms there, holding the event loop.
 *
 * Layout: "EWS2" · u32 structure length · structure (v8) · padding to 8 · each array's bytes,
 * padded to 8. A typed array in the structure is replaced by `{ "\0view": [type, offset, bytes] }`.
 * Rows written before this format are plain v8.serialize output (first byte 0xFF) and still decode.
 */

const MAGIC = Buffer.from('EWS2', 'latin1');
const MARK = '\u0000view';

const VIEW_TYPES = [Float64Array, Float32Array, Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array, Int32Array, Uint8ClampedArray, BigInt64Array, BigUint64Array] as const;
/** Type index of a Node Buffer (a Uint8Array that should come back as a Buffer). */
const BUFFER_TYPE = VIEW_TYPES.length;

type View = InstanceType<(typeof VIEW_TYPES)[number]>;

const pad8 = (n: number) => (n + 7) & ~7;

/** Set an own property, even one named `__proto__` (an assignment would set the prototype). */
function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

export function encodeStateData(data: unknown): Buffer {
  const views: View[] = [];
  let blobBytes = 0;
  const strip = (x: unknown): unknown => {
    if (typeof x !== 'object' || x === null) return x;
    if (ArrayBuffer.isView(x) && !(x instanceof DataView)) {
      const v = x as View;
      const type = Buffer.isBuffer(v) ? BUFFER_TYPE : VIEW_TYPES.findIndex((T) => v instanceof T);
      if (type < 0) return x; // an exotic view: v8 encodes it as it is
      const at = blobBytes;
      views.push(v);
      blobBytes += pad8(v.byteLength);
      return { [MARK]: [type, at, v.byteLength] };
    }
    if (Array.isArray(x)) return x.map(strip);
    if (x instanceof Map) {
      const m = new Map();
      for (const [k, v] of x) m.set(k, strip(v));
      return m;
    }
    const proto = Object.getPrototypeOf(x);
    if (proto !== Object.prototype && proto !== null) return x;
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(x)) setOwn(o, k, strip((x as Record<string, unknown>)[k]));
    return o;
  };
  const structure = serialize(strip(data));
  const head = pad8(8 + structure.length);
  const out = Buffer.allocUnsafe(head + blobBytes).fill(0, 8 + structure.length, head);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(structure.length, 4);
  structure.copy(out, 8);
  let at = head;
  for (const v of views) {
    out.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), at);
    out.fill(0, at + v.byteLength, at + pad8(v.byteLength));
    at += pad8(v.byteLength);
  }
  return out;
}

export function decodeStateData(buf: Buffer): unknown {
  if (buf.length < 8 || !buf.subarray(0, 4).equals(MAGIC)) return deserialize(buf);
  const len = buf.readUInt32LE(4);
  if (8 + len > buf.length) throw new Error(`state data: structure of ${len} bytes runs past the end (${buf.length} bytes)`);
  const blob = buf.subarray(pad8(8 + len));
  const restore = (x: unknown): unknown => {
    if (typeof x !== 'object' || x === null) return x;
    if (Array.isArray(x)) {
      for (let i = 0; i < x.length; i++) x[i] = restore(x[i]);
      return x;
    }
    if (x instanceof Map) {
      for (const [k, v] of x) x.set(k, restore(v));
      return x;
    }
    const o = x as Record<string, unknown>;
    const ref = o[MARK];
    if (Array.isArray(ref)) return view(ref as [number, number, number]);
    for (const k of Object.keys(o)) setOwn(o, k, restore(o[k]));
    return o;
  };
  const view = ([type, at, bytes]: [number, number, number]): unknown => {
    if (!(at >= 0 && bytes >= 0 && at + bytes <= blob.length)) throw new Error(`state data: an array of ${bytes} bytes at ${at} runs past the end (${blob.length} bytes of arrays)`);
    const src = blob.subarray(at, at + bytes);
    if (type === BUFFER_TYPE) return Buffer.from(src);
    const T = VIEW_TYPES[type];
    if (!T) throw new Error(`state data: unknown array type ${type}`);
    const copy = new Uint8Array(bytes);
    copy.set(src);
    return new T(copy.buffer as ArrayBuffer);
  };
  return restore(deserialize(buf.subarray(8, 8 + len)));
}
