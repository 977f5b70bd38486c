/**
 * Lasting steps by time of day, for the default detector's spike rule on slow series: a machine
 * that starts every morning at 07:00, a shop's lights, a batch job's load. On series whose
 * anomalous steps are not learnt by the spike record (`spike_learn_below`), such a step would be
 * a spike every day for ever; with this memory, a step no larger than `share` × the largest
 * *lasting* step in the same direction seen within ±2 slots (±17 minutes) of this time of day in
 * recent days is not a spike.
 *
 *   lasting — the series stayed at least half the step away from the level before it for `hold`
 *             readings: a level change, not a spike and its way back. A daily spike that returns
 *             at once (a labelled anomaly on real server metrics) stays a spike every day;
 *   near    — ±2 slots, or ± one reading interval on slower series (an hourly series places a
 *             start only to within the hour);
 *   memory  — 168 slots a day, each the largest lasting step there with its sign (+ rising,
 *             − falling; float32, 672 bytes, allocated at the first step remembered), the whole
 *             memory multiplied by `decay` per day (0.85: half in ~4 days, so a weekday pattern
 *             survives a weekend). A rise is judged against rises only: the way back down from a
 *             daily spike lasts, and must not excuse the next day's spike.
 *
 * Pure: time comes from the readings (UTC days; a site's offset only shifts every slot alike).
 */

const SLOTS = 168;
const DAY = 86_400_000;
/** Neighbouring slots also searched on each side (a start that wanders by a quarter of an hour), or one reading interval's worth. */
const NEAR = 2;
const SLOT_MS = DAY / SLOTS;
const N_NUMBERS = 8;

export interface DailyStepsParams {
  /** A step at most this multiple of the remembered one is no spike. */
  share: number;
  /** Factor applied to the whole memory per day. */
  decay: number;
  /** Readings a step must last to be remembered. */
  hold: number;
}

export class DailySteps {
  /**
   * Per slot the largest lasting step, signed (+ rising), in value units (not typical steps: the
   * typical step shrinks over an idle weekend, the machine's start does not); null until the first.
   */
  private ring: Float32Array | null = null;
  private day = -1;
  private slot = 0;
  private near = NEAR;
  // The step waiting to prove it lasts: readings left, size (typical steps), slot, level before it, size (value units), rising.
  private pendLeft = 0;
  private pendSpike = 0;
  private pendIdx = 0;
  private pendBase = 0;
  private pendStep = 0;
  private pendUp = true;

  constructor(private readonly p: DailyStepsParams) {}

  /**
   * Moves to the time of day of `ts` (the memory fades by `decay` per day passed); `dt` is the
   * typical interval: a step is placed only to within one reading, so slots that far on either side
   * count too. Once per reading, before `known`.
   */
  at(ts: number, dt: number): void {
    this.near = Math.min(SLOTS >> 1, Math.max(NEAR, Math.ceil(dt / SLOT_MS)));
    const day = Math.floor(ts / DAY);
    if (day > this.day) {
      const r = this.ring;
      if (r !== null && this.day >= 0) {
        const f = this.p.decay ** (day - this.day);
        for (let k = 0; k < r.length; k++) r[k] = r[k]! * f;
      }
      this.day = day;
    } else if (day < this.day - 1) {
      // A clock re-based backwards by days: count days on the new clock (else no decay until it came back).
      this.day = day;
    }
    // A timestamp before the current day (out of order) keeps the slot of its own time.
    this.slot = Math.floor(((ts - day * DAY) / DAY) * SLOTS);
  }

  /** Is a step of `step` (value units), rising when `up`, no larger than `share` × one remembered near this time of day? */
  known(step: number, up: boolean): boolean {
    const r = this.ring;
    if (r === null) return false;
    const sign = up ? 1 : -1;
    let m = 0;
    for (let d = -this.near; d <= this.near; d++) {
      const v = sign * r[(this.slot + d + SLOTS) % SLOTS]!;
      if (v > m) m = v;
    }
    return step <= this.p.share * m;
  }

  /**
   * After judging reading `x` (previous value `prev`): a step of more than `floor` typical steps
   * (`spike`; `step` in value units) waits `hold` readings; remembered if the series stayed away
   * from the level before it (the largest such step while one waits).
   */
  learn(x: number, prev: number, step: number, spike: number, floor: number): void {
    if (this.pendLeft > 0) {
      if (Math.abs(x - this.pendBase) < 0.5 * this.pendStep) this.pendLeft = 0;
      else if (--this.pendLeft === 0) {
        const r = (this.ring ??= new Float32Array(SLOTS));
        if (this.pendStep > Math.abs(r[this.pendIdx]!)) r[this.pendIdx] = this.pendUp ? this.pendStep : -this.pendStep;
      }
    }
    if (spike > floor && (this.pendLeft === 0 || spike > this.pendSpike)) {
      this.pendLeft = this.p.hold;
      this.pendSpike = spike;
      this.pendIdx = this.slot;
      this.pendUp = x >= prev;
      this.pendBase = prev;
      this.pendStep = step;
    }
  }

  /** A new copy of the ring, so a capture holding the old one keeps it (copy on write). */
  ownArrays(): void {
    if (this.ring !== null) this.ring = this.ring.slice();
  }

  view(): { numbers: number[]; ring: Float32Array | null } {
    return { numbers: [this.day, this.slot, this.pendLeft, this.pendSpike, this.pendIdx, this.pendBase, this.pendStep, this.pendUp ? 1 : 0], ring: this.ring };
  }

  snapshot(): ReturnType<DailySteps['view']> {
    const v = this.view();
    return { numbers: v.numbers, ring: v.ring?.slice() ?? null };
  }

  restore(s: unknown, where: string): void {
    const o = s as Record<string, unknown> | null;
    const nums = o?.numbers;
    if (!Array.isArray(nums) || nums.length !== N_NUMBERS || !nums.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new Error(`${where}: "daily.numbers" must hold ${N_NUMBERS} finite numbers`);
    }
    const [day, slot, pendLeft, pendSpike, pendIdx, pendBase, pendStep, pendUp] = nums as number[];
    if (!(slot! >= 0 && slot! < SLOTS && pendIdx! >= 0 && pendIdx! < SLOTS)) throw new Error(`${where}: "daily.numbers" holds a slot outside the day (${slot}, ${pendIdx})`);
    const ring = o?.ring;
    if (ring === null || ring === undefined) this.ring = null;
    else {
      const a = ArrayBuffer.isView(ring) || Array.isArray(ring) ? (ring as ArrayLike<unknown>) : undefined;
      if (a === undefined || a.length !== SLOTS) throw new Error(`${where}: "daily.ring" must hold ${SLOTS} numbers, not ${a?.length ?? 'none'}`);
      const r = new Float32Array(SLOTS);
      for (let k = 0; k < r.length; k++) {
        const v = a[k];
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${where}: "daily.ring" must hold finite numbers`);
        r[k] = v;
      }
      this.ring = r;
    }
    [this.day, this.slot, this.pendLeft, this.pendSpike, this.pendIdx, this.pendBase, this.pendStep] = [day!, slot!, pendLeft!, pendSpike!, pendIdx!, pendBase!, pendStep!];
    this.pendUp = pendUp === 1;
  }
}
