/**
 * A time zone for device clocks that send local wall time without a zone ("2026-12-02 13:00:00"
 * from a PLC in Berlin is 12:00 UTC). Offsets come from the IANA database Node carries (Intl),
 * cached per quarter hour of UTC time (no zone changes its offset between quarter hours), so
 * a reading costs a Map lookup, not an Intl call.
 */
const QUARTER_HOUR = 900_000;
/** A transition is looked for within a day of a wall time (offsets span −12 h to +14 h). */
const DAY = 86_400_000;

export class LocalZone {
  private readonly fmt: Intl.DateTimeFormat;
  private readonly offsets = new Map<number, number>();

  /** Throws a RangeError naming the zone when Node does not know it. */
  constructor(readonly name: string) {
    this.fmt = new Intl.DateTimeFormat('en-US', { timeZone: name, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  }

  /** True when `name` is a time zone Node knows (IANA, e.g. Europe/Berlin, or UTC). */
  static valid(name: string): boolean {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: name });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * UTC ms of a wall time in this zone, given as if it were UTC (Date.UTC of its fields). A wall
   * time a fall-back repeats (02:30 on the last Sunday of October in Berlin is 00:30 and 01:30 UTC)
   * is the occurrence nearer to `near` (the reading's arrival on the gateway clock: a device sends
   * its wall time as it reads it), or the second one without `near`. A wall time a spring-forward
   * skips is read with the offset before the change.
   */
  toUtc(wall: number, near?: number): number {
    const before = this.offsetAt(wall - DAY);
    const after = this.offsetAt(wall + DAY);
    if (before === after) {
      const guess = wall - before;
      return wall - this.offsetAt(guess);
    }
    const first = wall - before;
    const second = wall - after;
    const firstOk = this.offsetAt(first) === before;
    const secondOk = this.offsetAt(second) === after;
    if (firstOk && secondOk) return near !== undefined && Math.abs(near - first) < Math.abs(near - second) ? first : Math.max(first, second);
    if (secondOk) return second;
    return first;
  }

  /** The zone's offset from UTC at `utc` (ms; +3,600,000 for CET). */
  offsetAt(utc: number): number {
    const q = Math.floor(utc / QUARTER_HOUR);
    let off = this.offsets.get(q);
    if (off === undefined) {
      const at = q * QUARTER_HOUR;
      const p: Record<string, number> = {};
      for (const part of this.fmt.formatToParts(at)) if (part.type !== 'literal') p[part.type] = Number(part.value);
      off = Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0) - at;
      if (this.offsets.size > 10_000) this.offsets.clear();
      this.offsets.set(q, off);
    }
    return off;
  }
}
