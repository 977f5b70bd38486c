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
 * 0 tick: nothing more; 1 reading: stream, time, value (float64 each); 2 the same and its fields and
 * tags as JSON text; 3 a reading JSON would not give back exactly (NaN, −0, other properties),
 * v8-serialised. A stream is its name (varint length, UTF-8) the first time in a block, then the
 * varint index of that name. Strings and byte runs are a varint length and the bytes. Little-endian.
 */
const VERSION = 1;
const TICK = 0;
const COLUMNS = 1;
const JSON_EXTRA = 2;
const WHOLE = 3;
const HAS_SRC = 4;
const NEW_NAME = 8;

/** Disk bytes of a block beyond its data (the row, its key and columns), for the room on a nearly full disk. */
export const BLOCK_OVERHEAD_BYTES = 48;

export class JournalBlockWriter {
  private buf = Buffer.allocUnsafe(16 * 1024);
  private o = 0;
  private names = new Map<string, number>();
  private prevPos = 0;
  first = 0;
  last = 0;
  count = 0;
  /** Entries with a delivery key. */
  srcs = 0;

  /** Start a new block. */
  reset(): void {
    this.o = 0;
    this.names.clear();
    this.count = 0;
    this.srcs = 0;
    this.buf[this.o++] = VERSION;
  }

  /** Append `e`; returns the bytes it took. */
  add(e: JournalEntry): number {
    const start = this.o;
    if (this.count === 0) {
      this.first = e.pos;
      this.prevPos = e.pos - 1;
    }
    this.ensure(32);
    const headAt = this.o++;
    let head: number;
    this.varint(e.pos - this.prevPos);
    this.double(e.at);
    if ('tick' in e) head = TICK;
    else {
      const r = e.reading;
      const extra = extraOf(r);
      if (extra === undefined) {
        head = WHOLE;
        this.bytes(serialize(r));
      } else {
        head = extra === null ? COLUMNS : JSON_EXTRA;
        const id = this.names.get(r.stream);
        if (id === undefined) {
          head |= NEW_NAME;
          this.names.set(r.stream, this.names.size);
          this.text(r.stream);
        } else this.varint(id);
        this.ensure(16);
        this.double(r.ts);
        this.double(r.value);
        if (extra !== null) this.text(extra);
      }
      if (e.src !== undefined) {
        head |= HAS_SRC;
        this.text(e.src);
        this.srcs++;
      }
    }
    this.buf[headAt] = head;
    this.prevPos = e.pos;
    this.last = e.pos;
    this.count++;
    return this.o - start;
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
      reading = kind === JSON_EXTRA ? { stream, ts, value, ...(JSON.parse(text()) as Pick<Reading, 'fields' | 'tags'>) } : { stream, ts, value };
    }
    const src = head & HAS_SRC ? text() : undefined;
    if (pos <= afterPos) continue;
    yield src === undefined ? { pos, at, reading } : { pos, at, reading, src };
  }
}

/** How each entry of a block is stored (inspection and tests). */
export function entryKinds(data: Buffer): Array<'tick' | 'columns' | 'json' | 'whole'> {
  const kinds: Array<'tick' | 'columns' | 'json' | 'whole'> = [];
  const names = ['tick', 'columns', 'json', 'whole'] as const;
  // Re-decoding is the only way to find the next entry's head.
  let heads = 0;
  for (const _ of decodeBlock(data, -Infinity, 1, (head) => void (kinds[heads++] = names[head & 3]!))) {
    /* entries counted by their heads */
  }
  return kinds;
}

/**
 * How a reading's fields and tags are journaled: JSON text (null: none). undefined when JSON would
 * not give the reading back exactly (a NaN, an infinite field, −0, a property of another name):
 * then the whole reading is v8-serialised. JSON costs a tenth of v8.serialize for the small
 * objects readings are (bench/state.bench.ts).
 */
export function extraOf(r: Reading): string | null | undefined {
  if (typeof r.stream !== 'string' || typeof r.ts !== 'number' || Number.isNaN(r.ts) || typeof r.value !== 'number' || Number.isNaN(r.value)) return undefined;
  for (const k in r) if (k !== 'stream' && k !== 'ts' && k !== 'value' && k !== 'arrival' && k !== 'fields' && k !== 'tags') return undefined;
  const { fields, tags } = r;
  if (fields === undefined && tags === undefined) return null;
  if (fields !== undefined) {
    for (const k in fields) {
      const v = fields[k];
      if (typeof v === 'number' ? !Number.isFinite(v) || Object.is(v, -0) : typeof v !== 'string' && typeof v !== 'boolean') return undefined;
    }
  }
  if (tags !== undefined) for (const k in tags) if (typeof tags[k] !== 'string') return undefined;
  return JSON.stringify(tags === undefined ? { fields } : fields === undefined ? { tags } : { fields, tags });
}
