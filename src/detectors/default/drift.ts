/**
 * The drift rule's memory: how far a stream's remembered range has been pushed out lately. The
 * range rule judges each reading against the range as it stands and learns every new extreme, so
 * a slow rise that extends the range a little at each reading is never "outside" it — vibration
 * growing over minutes, a valve closing slowly, a loop's pressure creeping up. Here the extensions
 * add up, each fading by a factor e over `time`: a creep of the range's own width within that
 * time sums to about that width, as one jump of it would.
 *
 * State: two numbers, the summed extensions at the top and at the bottom.
 */
export class RangeGrowth {
  up = 0;
  down = 0;

  constructor(private readonly time: number) {}

  /** The larger side's growth if the range were pushed out by `above` (or `below`) now. */
  judge(above: number, below: number): number {
    const up = this.up + (above > 0 ? above : 0);
    const down = this.down + (below > 0 ? below : 0);
    return up > down ? up : down;
  }

  /** After `gap` ms, the range pushed out by `up` at the top and `down` at the bottom. */
  learn(gap: number, up: number, down: number): void {
    const fade = gap > 0 ? Math.exp(-gap / this.time) : 1;
    this.up = this.up * fade + up;
    this.down = this.down * fade + down;
  }

  numbers(): number[] {
    return [this.up, this.down];
  }

  set(v: number[], where: string): void {
    if (v.length !== 2 || !v.every((x) => Number.isFinite(x) && x >= 0)) throw new Error(`${where}: "drift" must hold 2 non-negative numbers [up, down]`);
    [this.up, this.down] = v as [number, number];
  }
}
