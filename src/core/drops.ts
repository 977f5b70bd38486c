/**
 * Counted drops with kept samples: the one place where "bad input gets a counted drop, never a
 * silent loss" is implemented. Drivers, the engine and the outbox each own a DropCounter.
 */
export interface DropSample {
  reason: string;
  /** What was refused, as text (a line, a payload, a reading as JSON), cut to `maxSampleBytes`. */
  sample: string;
  /** Human-readable detail: what was wrong and where. */
  detail?: string;
  /** Wall-clock or event time at which it was refused (ms since epoch), as the owner chooses. */
  at: number;
}

export type DropListener = (drop: DropSample) => void;

export class DropCounter {
  private readonly counts = new Map<string, number>();
  private readonly samples = new Map<string, DropSample[]>();
  private readonly listeners: DropListener[] = [];

  constructor(
    /** Samples kept per reason (a ring: the newest are kept). */
    readonly samplesPerReason = 5,
    readonly maxSampleBytes = 512,
  ) {}

  /** Count one drop for `reason` and keep a sample of what was dropped. */
  drop(reason: string, sample: unknown, detail?: string, at = 0): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    if (this.samplesPerReason <= 0 && this.listeners.length === 0) return;
    const text = toSampleText(sample, this.maxSampleBytes);
    const entry: DropSample = { reason, sample: text, detail, at };
    if (this.samplesPerReason > 0) {
      let ring = this.samples.get(reason);
      if (!ring) this.samples.set(reason, (ring = []));
      if (ring.length >= this.samplesPerReason) ring.shift();
      ring.push(entry);
    }
    for (const l of this.listeners) l(entry);
  }

  /** Be told of every drop (e.g. to write a dead-letter table). */
  onDrop(listener: DropListener): void {
    this.listeners.push(listener);
  }

  count(reason: string): number {
    return this.counts.get(reason) ?? 0;
  }

  total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }

  /** Counts per reason, as a plain object (stable key order). */
  counters(): Record<string, number> {
    return countsByName(this.counts);
  }

  samplesFor(reason: string): readonly DropSample[] {
    return this.samples.get(reason) ?? [];
  }

  allSamples(): DropSample[] {
    return [...this.samples.values()].flat();
  }
}

function toSampleText(sample: unknown, max: number): string {
  let text: string;
  if (typeof sample === 'string') text = sample;
  else if (Buffer.isBuffer(sample)) text = sample.toString('utf8');
  else {
    try {
      text = JSON.stringify(sample, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) ?? String(sample);
    } catch {
      text = String(sample);
    }
  }
  return text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text;
}

/**
 * Counts as a plain object, keys in code-unit order. Not `localeCompare`: the first collation loads
 * ICU's data into the process (~3 MB resident, measured), and reason names are ASCII.
 */
export function countsByName(counts: Iterable<[string, number]>): Record<string, number> {
  return Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
