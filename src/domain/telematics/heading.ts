/**
 * An IMU whose readings come in a world frame (`frame: world`: axes fixed to the Earth, z
 * vertical — as loggers write them after rotating each reading by the phone's attitude). There the
 * vehicle's forward turns with every turn of the road, so no fixed mounting can be learnt from
 * them as they come. The vehicle's heading is followed instead, from the gyro's rate about z, and
 * each reading is turned back by it: what is left is in axes that turn with the vehicle, as a
 * phone's own are when it sits in a mount, and forward is learnt from them as from a mounted one.
 *
 * The heading is the gyro's rate integrated, so a bias in that rate turns it steadily (a real
 * iPhone's raw gyro: 0.65°/s, 200° in five minutes). The bias is learnt from the readings where the
 * vehicle does not turn — it stands or goes straight: the rate's values under STRAIGHT, averaged
 * over BIAS_TAU_MS — and taken out.
 */
import { savedNumber, type Vec3 } from './vec.js';

/** Rates under this (rad/s, 1.1°/s) after the bias are taken as no turn: a gentle bend is more. */
const STRAIGHT = 0.02;
/** Time constant of the bias's average over those (ms): 10 s followed the iPhone's bias best (20 s and 60 s left more of it). */
const BIAS_TAU_MS = 10_000;
/** The newest gyro rate is held this long (ms) for accelerometer samples between gyro readings. */
const HOLD_MS = 1_000;

export class WorldHeading {
  /** Heading turned through since the first sample (rad, anticlockwise about z). */
  private psi = 0;
  private bias = 0;
  private lastTs = NaN;

  /**
   * Follow the heading to `ts` by the newest gyro rate about z (rad/s, read at `rateTs`); false
   * when there is none within HOLD_MS (the sample cannot be turned back).
   */
  advance(ts: number, rate: number, rateTs: number): boolean {
    const dt = Number.isNaN(this.lastTs) ? 0 : Math.min(1000, Math.max(0, ts - this.lastTs));
    this.lastTs = ts;
    if (!(Math.abs(ts - rateTs) <= HOLD_MS)) return false;
    const r = rate - this.bias;
    if (Math.abs(r) < STRAIGHT) this.bias += (1 - Math.exp(-dt / BIAS_TAU_MS)) * r;
    this.psi += ((rate - this.bias) * dt) / 1000;
    return true;
  }

  /** `x` (world axes) in axes that turn with the vehicle: turned back about z by the heading. */
  toVehicle(x: Vec3): Vec3 {
    const c = Math.cos(this.psi);
    const s = Math.sin(this.psi);
    return [c * x[0] + s * x[1], -s * x[0] + c * x[1], x[2]];
  }

  save(): Record<string, unknown> {
    const n = (x: number) => (Number.isNaN(x) ? null : x);
    return { psi: this.psi, bias: this.bias, lastTs: n(this.lastTs) };
  }

  load(s: Record<string, unknown>): void {
    this.psi = savedNumber(s.psi ?? null, 'heading.psi', 0);
    this.bias = savedNumber(s.bias ?? null, 'heading.bias', 0);
    this.lastTs = savedNumber(s.lastTs ?? null, 'heading.lastTs', NaN);
  }
}
