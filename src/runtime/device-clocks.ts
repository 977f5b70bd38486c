/**
 * The gateway's clock checked against its devices' clocks. A Raspberry Pi has no real-time clock:
 * it boots with the time fake-hwclock saved at the last shutdown (or the image's build date) and
 * runs hours to months behind until NTP answers, which on an isolated site may be never. Every
 * device with a correct clock then looks "too far in the future" (`max_future_skew`) and each of
 * its readings is refused. When most devices agree with each other and not with the gateway, the
 * gateway judges arrivals by their consensus (its clock plus the median offset) instead: one fast
 * device among correct ones still stands out and is refused, as before. A step of the gateway's
 * own wall clock while corrected (NTP finally syncing) is followed at once (against the monotonic
 * clock), so the gateway time stays continuous, and the correction goes back to 0 as the devices
 * agree with the gateway again. Fewer than three devices cannot outvote the gateway.
 */

/** Devices needed (distinct, by the stream's first level) before their consensus counts. */
const MIN_DEVICES = 3;
/** The tolerance without pipelines (input.max_future_skew's default). */
export const DEFAULT_FUTURE_SKEW_MS = 300_000;
/** A reading's time this close to the gateway time carries no vote (see arrival). */
const STAMPED_MS = 50;
/** Streams whose votes are kept (enough for a consensus; bounded memory with many streams). */
const MAX_VOTERS = 10_000;
/** Offsets older than this (gateway clock) no longer vote. */
const VOTE_MS = 60_000;

export interface ClockConsensus {
  /** Added to the gateway's wall clock for arrivals and ticks (ms; 0: the gateway clock is trusted). */
  correctionMs: number;
  /** Devices that voted in the last minute, and how many of them agreed with the median. */
  devices: number;
  agreeing: number;
}

export class DeviceClocks {
  /** stream → [offset of its last reading (device time − gateway wall clock), gateway wall clock then]. */
  private readonly votes = new Map<string, [number, number]>();
  private correction = 0;
  /** Wall clock − monotonic clock at the last check (a change is a step of the wall clock). */
  private anchor: number | undefined;
  private last: ClockConsensus = { correctionMs: 0, devices: 0, agreeing: 0 };

  constructor(
    private readonly o: {
      /** Offsets within this of each other agree, and a consensus this far from the gateway clock corrects it (ms). */
      toleranceMs: number;
      now: () => number;
      /** A clock that never steps (performance.now()). */
      mono: () => number;
      /** The correction changed (ms; 0: back to the gateway clock). */
      onChange: (c: ClockConsensus, was: number) => void;
      /** Off: the gateway's clock is used as it is. */
      enabled?: boolean;
    },
  ) {}

  /** The gateway time for a reading with time `ts` arriving now (its vote is kept). */
  arrival(stream: string, ts: number): number {
    const now = this.o.now();
    const at = now + this.correction;
    // Within STAMPED_MS of the gateway time: stamped by the driver on arrival (no device clock),
    // or a device that agrees with the gateway anyway: no vote either way.
    if ((ts - at > STAMPED_MS || at - ts > STAMPED_MS) && this.o.enabled !== false) {
      const v = this.votes.get(stream);
      if (v === undefined) {
        if (this.votes.size < MAX_VOTERS) this.votes.set(stream, [ts - now, now]);
      }
      else {
        v[0] = ts - now;
        v[1] = now;
      }
    }
    return at;
  }

  /** The gateway time now (for ticks). */
  time(): number {
    return this.o.now() + this.correction;
  }

  get state(): ClockConsensus {
    return this.last;
  }

  /** Once a second: follow a step of the wall clock, then decide the correction from the last minute's votes. */
  check(): void {
    const now = this.o.now();
    const was = this.correction;
    const anchor = now - this.o.mono();
    if (this.anchor !== undefined && Math.abs(anchor - this.anchor) > this.o.toleranceMs) {
      // The wall clock stepped. While corrected, that is the gateway clock being set right (NTP at
      // last): the gateway time stays where it was. Trusted, the step is taken as it is. Either
      // way the votes taken before it are void.
      if (this.correction !== 0) {
        this.correction -= anchor - this.anchor;
        if (Math.abs(this.correction) <= this.o.toleranceMs) this.correction = 0; // set right: what is left is within tolerance
      }
      this.votes.clear();
    }
    this.anchor = anchor;
    if (this.o.enabled === false) return;
    const devices = new Map<string, number>();
    for (const [stream, [offset, at]] of this.votes) {
      if (now - at > VOTE_MS) this.votes.delete(stream);
      else devices.set(deviceOf(stream), offset); // a device's streams share one clock: one vote
    }
    const offsets = [...devices.values()].sort((a, b) => a - b);
    const median = offsets[offsets.length >> 1] ?? 0;
    const agreeing = offsets.filter((x) => Math.abs(x - median) <= this.o.toleranceMs).length;
    let target = this.correction;
    if (offsets.length >= MIN_DEVICES && agreeing * 3 >= offsets.length * 2) target = median > this.o.toleranceMs ? median : 0; // only a gateway behind refuses readings (a replay of old data sent live is no reason to move it back)
    const c = this.correction;
    if (Math.abs(target - c) > this.o.toleranceMs || (target === 0 && c !== 0 && Math.abs(c) <= this.o.toleranceMs)) this.correction = target;
    this.last = { correctionMs: this.correction, devices: offsets.length, agreeing };
    if (this.correction !== was) this.o.onChange(this.last, was);
  }
}

function deviceOf(stream: string): string {
  const i = stream.indexOf('/');
  return i < 0 ? stream : stream.slice(0, i);
}
