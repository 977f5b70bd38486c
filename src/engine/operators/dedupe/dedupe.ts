/**
 * The `dedupe` step: a reading sent twice — the same stream, event time, value, fields and tags as
 * one of the stream's last `readings` readings — is dropped and counted (`duplicate`), so the
 * windows after it count each reading once. Duplicates are what at-least-once delivery gives: an
 * MQTT QoS 1 resend after a lost PUBACK, a LoRaWAN uplink heard by two gateways, a driver that
 * re-reads a buffer after a reconnect. (The detect step already gives an exact repeat of the last
 * reading no opinion; a window counted it twice.) Two readings of one time and value that differ
 * in any field or tag are both kept.
 */
import type { Reading } from '../../../core/reading.js';
import { isoTime } from '../../../core/time.js';
import type { EngineOperator, OperatorContext } from '../../pipeline.js';
import type { DedupeStepSpec } from './schema.js';

type Extra = Reading['fields'] | Reading['tags'];

/** A stream's last readings, a ring: times and values, and the fields and tags they carried. */
interface Seen {
  ts: Float64Array;
  value: Float64Array;
  fields: Extra[];
  tags: Extra[];
  /** Readings kept so far (at most the ring's size) and the slot the next one takes. */
  n: number;
  next: number;
}

/** Saved state: per stream, its last readings oldest first as [ts, value, fields?, tags?]. */
type Snapshot = Record<string, Array<[number, number, Extra?, Extra?]>>;

function sameExtra(a: Extra, b: Extra): boolean {
  if (a === b) return true;
  const ka = a === undefined ? [] : Object.keys(a);
  const kb = b === undefined ? [] : Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (a![k] !== b![k]) return false;
  return true;
}

export class DedupeOperator implements EngineOperator {
  readonly name: string;
  private readonly size: number;
  private readonly streams = new Map<string, Seen>();
  private duplicates = 0;

  constructor(spec: DedupeStepSpec) {
    this.name = spec.name;
    this.size = spec.readings;
  }

  reading(r: Reading, ctx: OperatorContext): void {
    let s = this.streams.get(r.stream);
    if (s === undefined) {
      s = { ts: new Float64Array(this.size), value: new Float64Array(this.size), fields: new Array(this.size), tags: new Array(this.size), n: 0, next: 0 };
      this.streams.set(r.stream, s);
    }
    for (let i = 0; i < s.n; i++) {
      if (s.ts[i] === r.ts && s.value[i] === r.value && sameExtra(s.fields[i], r.fields) && sameExtra(s.tags[i], r.tags)) {
        this.duplicates++;
        ctx.drop('duplicate', r, `${r.stream}: the reading of ${isoTime(r.ts)} (value ${r.value}) came again: dropped (step ${this.name})`, r.ts);
        return;
      }
    }
    this.remember(s, r.ts, r.value, r.fields, r.tags);
    ctx.reading(r);
  }

  private remember(s: Seen, ts: number, value: number, fields: Extra, tags: Extra): void {
    const i = s.next;
    s.ts[i] = ts;
    s.value[i] = value;
    s.fields[i] = fields;
    s.tags[i] = tags;
    s.next = (i + 1) % this.size;
    if (s.n < this.size) s.n++;
  }

  forget(device: string): void {
    const prefix = `${device}/`;
    for (const stream of this.streams.keys()) if (stream.startsWith(prefix)) this.streams.delete(stream);
  }

  counters(): Readonly<Record<string, number>> {
    return { duplicates: this.duplicates };
  }

  snapshot(): Snapshot {
    const out: Snapshot = {};
    for (const [stream, s] of this.streams) {
      const rows: Snapshot[string] = [];
      for (let k = 0; k < s.n; k++) {
        const i = (s.next - s.n + k + this.size) % this.size;
        const row: [number, number, Extra?, Extra?] = [s.ts[i]!, s.value[i]!];
        if (s.fields[i] !== undefined || s.tags[i] !== undefined) row.push(s.fields[i], s.tags[i]);
        rows.push(row);
      }
      out[stream] = rows;
    }
    return out;
  }

  restore(snap: unknown): void {
    if (typeof snap !== 'object' || snap === null || Array.isArray(snap)) throw new Error('dedupe snapshot: expected an object of streams');
    this.streams.clear();
    for (const [stream, rows] of Object.entries(snap as Snapshot)) {
      if (!Array.isArray(rows)) throw new Error(`dedupe snapshot: stream ${stream}: expected a list of [ts, value, fields?, tags?]`);
      const s: Seen = { ts: new Float64Array(this.size), value: new Float64Array(this.size), fields: new Array(this.size), tags: new Array(this.size), n: 0, next: 0 };
      // A smaller `readings` than when saved keeps the newest.
      for (const row of rows.slice(-this.size)) {
        if (!Array.isArray(row) || typeof row[0] !== 'number' || typeof row[1] !== 'number') throw new Error(`dedupe snapshot: stream ${stream}: expected [ts, value, fields?, tags?], found ${JSON.stringify(row)}`);
        this.remember(s, row[0], row[1], row[2] ?? undefined, row[3] ?? undefined);
      }
      this.streams.set(stream, s);
    }
  }
}
