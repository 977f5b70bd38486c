import { deserialize, serialize } from 'node:v8';
import type { Reading } from '../core/reading.js';

/** `acked`: part of a delivery whose acknowledgement waits for it (never dropped while commits fail). */
export type JournalEntry = { pos: number; at: number; reading: Reading; src?: string; acked?: true } | { pos: number; at: number; tick: true };

/**
 * How the ingest journal (src/journal/journal.ts) is stored in the outbox file: one row per group commit (`journal_blocks`: the first and
 * last position, the entry count, the encoded entries), not one row per reading. A row costs
 * SQLite a B-tree insert, a cell and an index entry; at thousands of readings a second that was
 * most of the journal's cost (bench/state.bench.ts: ~2 µs a reading in rows, ~0.3 µs in blocks).
 *
 * A block is a version byte, then its entries in order. An entry is a head byte (bits 0–1: kind;
 * bit 2: a delivery key follows; bit 3: the stream's name is new in this block), the position as a
 * varint step from the previous one, the arrival time (float64), then by kind:
 * 0 tick: nothing more; 1 reading: stream, time, value (float64 each); 2 the same, then a byte
 * saying which of fields (bit 0) and tags (bit 1) follow, each a varint count of pairs: a field is
 * its name, a type byte (0 float64, 1 string, 2 false, 3 true) and its value, a tag its name and
 * value; 3 a reading of another shape (other properties, a field of another type), v8-serialised.
 * A stream is its name (varint length, UTF-8) the first time in a block, then the varint index of
 * that name. Strings and byte runs are a varint length and the bytes. Little-endian. Every number
 * comes back as it was (NaN, ±Infinity and −0 included).
 */
const VERSION = 1;
const TICK = 0;
const COLUMNS = 1;
const EXTRA = 2;
const WHOLE = 3;
const HAS_SRC = 4;
const NEW_NAME = 8;

/** Stream names the writer remembers from block to block (beyond it, it forgets them all at the next block). */
const MAX_NAMES = 16_384;

/** Disk bytes of a block beyond its data (the row, its key and columns), for the room on a nearly full disk. */
export const BLOCK_OVERHEAD_BYTES = 48;

export class JournalBlockWriter {
  private buf = Buffer.allocUnsafe(16 * 1024);
  private o = 0;
  /**
   * Stream names and their index in the block that last used them (`block`): kept from block to
   * block, so that starting one allocates nothing (the journal's pending block lives ~100 ms, and
   * a map built anew for each outlived V8's young generation: 1 MB/s of old-space garbage at
   * 20,000 readings/s). Cleared when it holds more than MAX_NAMES.
   */
  private names = new Map<string, { block: number; id: number }>();
  private blockNo = 0;
  private nameCount = 0;
  private prevPos = 0;
  first = 0;
  last = 0;
  count = 0;
  /** Entries with a delivery key. */
  srcs = 0;

  /** Start a new block. */
  reset(): void {
    this.o = 0;
    if (this.names.size > MAX_NAMES || this.blockNo >= 2 ** 30) {
      this.names.clear();
      this.blockNo = 0;
    }
    this.blockNo++;
    this.nameCount = 0;
    this.count = 0;
    this.srcs = 0;
    this.buf[this.o++] = VERSION;
  }

  constructor() {
    this.reset();
  }

  /** Bytes written so far (the version byte included). */
  get size(): number {
    return this.o;
  }

  /** Append `e`; returns the bytes it took. */
  add(e: JournalEntry): number {
    return 'tick' in e ? this.addTick(e.pos, e.at) : this.addReading(e.pos, e.at, e.reading, e.src);
  }

  addTick(pos: number, at: number): number {
    const start = this.begin(pos, at);
    this.end(start, TICK, pos);
    return this.o - start;
  }

  /** Throws, writing nothing, for a reading v8.serialize refuses (a function or a symbol in it). */
  addReading(pos: number, at: number, r: Reading, src?: string): number {
    const shape = shapeOf(r);
    const whole = shape === undefined ? serialize(r) : undefined; // before the block is touched: it may throw
    const start = this.begin(pos, at);
    let head: number;
    if (whole !== undefined) {
      head = WHOLE;
      this.bytes(whole);
    } else {
      head = shape ? EXTRA : COLUMNS;
      let name = this.names.get(r.stream);
      if (name === undefined) this.names.set(r.stream, (name = { block: 0, id: 0 }));
      if (name.block !== this.blockNo) {
        name.block = this.blockNo;
        name.id = this.nameCount++;
        head |= NEW_NAME;
        this.text(r.stream);
      } else this.varint(name.id);
      this.ensure(17);
      this.double(r.ts);
      this.double(r.value);
      if (shape) this.extra(r);
    }
    if (src !== undefined) {
      head |= HAS_SRC;
      this.text(src);
      this.srcs++;
    }
    this.end(start, head, pos);
    return this.o - start;
  }

  /** The entry's head (its byte is set by end()), position step and arrival time. */
  private begin(pos: number, at: number): number {
    const start = this.o;
    if (this.count === 0) {
      this.first = pos;
      this.prevPos = pos - 1;
    }
    this.ensure(32);
    this.o++;
    this.varint(pos - this.prevPos);
    this.double(at);
    return start;
  }

  private end(start: number, head: number, pos: number): void {
    this.buf[start] = head;
    this.prevPos = pos;
    this.last = pos;
    this.count++;
  }

  private extra(r: Reading): void {
    const { fields, tags } = r;
    this.buf[this.o++] = (fields ? 1 : 0) | (tags ? 2 : 0);
    if (fields) {
      let n = 0;
      for (const _ in fields) n++;
      this.varint(n);
      for (const k in fields) {
        this.text(k);
        const v = fields[k];
        this.ensure(9);
        if (typeof v === 'number') {
          this.buf[this.o++] = 0;
          this.double(v);
        } else if (typeof v === 'string') {
          this.buf[this.o++] = 1;
          this.text(v);
        } else this.buf[this.o++] = v ? 3 : 2;
      }
    }
    if (tags) {
      let n = 0;
      for (const _ in tags) n++;
      this.varint(n);
      for (const k in tags) {
        this.text(k);
        this.text(tags[k]!);
      }
    }
  }

  /** The encoded block (a view: SQLite copies it when it is bound). */
  data(): Buffer {
    return this.buf.subarray(0, this.o);
  }

  private ensure(n: number): void {
    if (this.o + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.o + n));
    this.buf.copy(bigger, 0, 0, this.o);
    this.buf = bigger;
  }

  private varint(n: number): void {
    this.ensure(10);
    while (n >= 0x80) {
      this.buf[this.o++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.o++] = n;
  }

  private double(x: number): void {
    this.buf.writeDoubleLE(x, this.o);
    this.o += 8;
  }

  private text(s: string): void {
    const n = Buffer.byteLength(s);
    this.varint(n);
    this.ensure(n);
    this.o += this.buf.write(s, this.o, n, 'utf8');
  }

  private bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.o);
    this.o += b.length;
  }
}

/** The entries of a block, in order (those after `afterPos` only). */
export function* decodeBlock(data: Buffer, afterPos = -Infinity, first = 1, onHead?: (head: number) => void): Generator<JournalEntry> {
  if (data[0] !== VERSION) throw new Error(`journal block of format ${data[0]} (this build reads ${VERSION})`);
  let o = 1;
  let pos = first - 1;
  const names: string[] = [];
  const varint = (): number => {
    let n = 0;
    let mult = 1;
    for (;;) {
      const b = data[o++];
      if (b === undefined) throw new Error('journal block cut short');
      n += (b & 0x7f) * mult;
      if (b < 0x80) return n;
      mult *= 0x80;
    }
  };
  const need = (n: number) => {
    if (o + n > data.length) throw new Error('journal block cut short');
  };
  const double = (): number => {
    need(8);
    const x = data.readDoubleLE(o);
    o += 8;
    return x;
  };
  const text = (): string => {
    const n = varint();
    need(n);
    const s = data.toString('utf8', o, o + n);
    o += n;
    return s;
  };
  while (o < data.length) {
    const head = data[o++]!;
    onHead?.(head);
    pos += varint();
    const at = double();
    const kind = head & 3;
    if (kind === TICK) {
      if (pos > afterPos) yield { pos, at, tick: true };
      continue;
    }
    let reading: Reading;
    if (kind === WHOLE) {
      const n = varint();
      need(n);
      reading = deserialize(data.subarray(o, o + n)) as Reading;
      o += n;
    } else {
      let stream: string;
      if (head & NEW_NAME) names.push((stream = text()));
      else stream = names[varint()]!;
      const ts = double();
      const value = double();
      reading = { stream, ts, value };
      if (kind === EXTRA) {
        need(1);
        const which = data[o++]!;
        if (which & 1) {
          const fields: Record<string, number | string | boolean> = {};
          for (let n = varint(); n > 0; n--) {
            const k = text();
            need(1);
            const type = data[o++]!;
            fields[k] = type === 0 ? double() : type === 1 ? text() : type === 3;
          }
          reading.fields = fields;
        }
        if (which & 2) {
          const tags: Record<string, string> = {};
          for (let n = varint(); n > 0; n--) {
            const k = text();
            tags[k] = text();
          }
          reading.tags = tags;
        }
      }
    }
    const src = head & HAS_SRC ? text() : undefined;
    if (pos <= afterPos) continue;
    yield src === undefined ? { pos, at, reading } : { pos, at, reading, src };
  }
}

/** How each entry of a block is stored (inspection and tests). */
export function entryKinds(data: Buffer): Array<'tick' | 'columns' | 'fields' | 'whole'> {
  const kinds: Array<'tick' | 'columns' | 'fields' | 'whole'> = [];
  const names = ['tick', 'columns', 'fields', 'whole'] as const;
  // Re-decoding is the only way to find the next entry's head.
  let heads = 0;
  for (const _ of decodeBlock(data, -Infinity, 1, (head) => void (kinds[heads++] = names[head & 3]!))) {
    /* entries counted by their heads */
  }
  return kinds;
}

/**
 * How a reading is encoded: undefined when it has a shape the columns do not hold (a property of
 * another name, a field that is not a number, string or boolean, a tag that is not a string: then
 * it is v8-serialised whole); else whether fields or tags follow the columns. `arrival` is not
 * kept: the entry's arrival time is.
 */
function shapeOf(r: Reading): boolean | undefined {
  if (typeof r.stream !== 'string' || typeof r.ts !== 'number' || typeof r.value !== 'number') return undefined;
  for (const k in r) if (k !== 'stream' && k !== 'ts' && k !== 'value' && k !== 'arrival' && k !== 'fields' && k !== 'tags') return undefined;
  const { fields, tags } = r;
  if (fields === undefined && tags === undefined) return false;
  if (fields !== undefined) {
    if (typeof fields !== 'object' || fields === null || Object.getPrototypeOf(fields) !== Object.prototype) return undefined;
    for (const k in fields) {
      const t = typeof fields[k];
      if ((t !== 'number' && t !== 'string' && t !== 'boolean') || k === '__proto__') return undefined;
    }
  }
  if (tags !== undefined) {
    if (typeof tags !== 'object' || tags === null || Object.getPrototypeOf(tags) !== Object.prototype) return undefined;
    for (const k in tags) if (typeof tags[k] !== 'string' || k === '__proto__') return undefined;
  }
  return true;
}
