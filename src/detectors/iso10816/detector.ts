import { checkKind, newJudgement, snapBool, type Detector, type Judgement } from '../types.js';

/**
 * Vibration severity zones for velocity RMS (mm/s, 10–1000 Hz), a physical rule that needs no
 * learning. Zone A: new machines; B: unrestricted long-term operation; C: unsatisfactory for
 * long-term operation (plan maintenance); D: severe enough to cause damage.
 *
 * Boundaries A/B, B/C, C/D per machine class or group:
 * - ISO 10816-1:1995 Annex B (typical values; withdrawn in favour of ISO 20816-1, which keeps the
 *   same zone idea): class I small machines (≤ 15 kW); II medium (15–75 kW, or ≤ 300 kW on special
 *   foundations); III large on rigid foundations; IV large on soft foundations.
 * - ISO 10816-3:2009 Annex A (industrial machines 15 kW–50 MW, in situ): group 1 (300 kW–50 MW),
 *   group 2 (15–300 kW), each on rigid or flexible supports.
 */
const ISO10816_ZONES = {
  I: [0.71, 1.8, 4.5],
  II: [1.12, 2.8, 7.1],
  III: [1.8, 4.5, 11.2],
  IV: [2.8, 7.1, 18],
  'group1-rigid': [2.3, 4.5, 7.1],
  'group1-flexible': [3.5, 7.1, 11],
  'group2-rigid': [1.4, 2.8, 4.5],
  'group2-flexible': [2.3, 4.5, 7.1],
} as const satisfies Record<string, readonly [number, number, number]>;
export type Iso10816Class = keyof typeof ISO10816_ZONES;
export const ISO10816_CLASSES = Object.keys(ISO10816_ZONES) as Iso10816Class[];

export interface Iso10816Params {
  class: Iso10816Class;
  /** Lowest zone that is anomalous. */
  zone: 'C' | 'D';
  /** Unit of the readings. */
  unit: 'mm/s' | 'in/s';
  /** Once in the zone, the value must fall this fraction below the boundary to leave it (no flapping). */
  hysteresis: number;
}

/** Zone of a velocity RMS (mm/s) for a class: 'A'..'D'. */
export function iso10816Zone(mmPerS: number, cls: Iso10816Class): 'A' | 'B' | 'C' | 'D' {
  const [ab, bc, cd] = ISO10816_ZONES[cls];
  return mmPerS < ab ? 'A' : mmPerS < bc ? 'B' : mmPerS < cd ? 'C' : 'D';
}

/** Anomalous while the velocity RMS is in `zone` or worse. Score: value / (value + boundary), 0.5 on the boundary. */
export class Iso10816Detector implements Detector {
  readonly kind = 'iso10816';
  private readonly out: Judgement = newJudgement();
  private readonly boundary: number;
  private readonly scale: number;
  private inZone = false;
  private readonly rules: Record<'A' | 'B' | 'C' | 'D', string>;

  constructor(private readonly p: Iso10816Params) {
    const r = (z: string) => `iso10816_${p.class}_zone_${z}`;
    this.rules = { A: r('A'), B: r('B'), C: r('C'), D: r('D') };
    const [, bc, cd] = ISO10816_ZONES[p.class];
    this.boundary = p.zone === 'C' ? bc : cd;
    this.scale = p.unit === 'in/s' ? 25.4 : 1;
    this.out.limit = this.boundary;
    this.out.baseline = this.boundary;
  }

  update(_ts: number, value: number): Judgement {
    const o = this.out;
    const v = value * this.scale;
    if (!(v >= 0)) {
      // An RMS is never negative: a signed velocity, or the wrong field. Not judged (its score
      // v / (v + boundary) would leave [0, 1]); the zone stays as it was for the next reading.
      o.deviation = v;
      o.anomalous = false;
      o.score = 0;
      o.rule = 'not_rms';
      return o;
    }
    this.inZone = this.inZone ? v >= this.boundary * (1 - this.p.hysteresis) : v >= this.boundary;
    o.deviation = v;
    o.anomalous = this.inZone;
    o.score = this.inZone ? Math.max(0.5, v / (v + this.boundary)) : Math.min(0.49, v / (v + this.boundary));
    o.rule = this.rules[iso10816Zone(v, this.p.class)];
    return o;
  }

  snapshot(): Record<string, unknown> {
    return { kind: this.kind, inZone: this.inZone };
  }

  restore(snap: Record<string, unknown>): void {
    checkKind(snap, this.kind);
    this.inZone = snapBool(snap, 'inZone', this.kind);
  }
}
