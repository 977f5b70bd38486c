/**
 * A time zone for device clocks that send local wall time without a zone ("2026-12-02 13:00:00"
 * from a PLC in Berlin is 12:00 UTC). Offsets come from the IANA database Node carries (Intl),
 * cached per quarter hour of UTC time (no zone changes its offset between quarter hours), so
 * a reading costs a Map lookup, not an Intl call.
 */
const QUARTER_HOUR = 900_000;

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
   * time a spring-forward skips is read with the offset before the change; one a fall-back repeats
   * is its second occurrence (the text cannot tell the two apart; send a zone to be exact).
   */
  toUtc(wall: number): number {
    const guess = wall - this.offsetAt(wall);
    return wall - this.offsetAt(guess);
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
