import type { Logger } from './log.js';
import type { Reading } from './reading.js';
import type { DropCounter } from './drops.js';
import type { AlertRecord } from './records.js';

/**
 * The driver interface: how `src/` sees an input. A driver turns bytes from a device into
 * Readings. It never throws into the runtime: a line or payload it cannot parse is counted in
 * `ctx.drops` (with a sample) and the driver carries on.
 */
export interface DriverContext {
  /** Hand one reading to the runtime (the pipelines). Synchronous and cheap; never throws. */
  emit(reading: Reading): void;
  /**
   * Call `done` once every reading emitted so far is durable (in the ingest journal), at once
   * when the gateway does not journal. A driver that acknowledges its source (an MQTT PUBACK)
   * acknowledges in `done`. Absent outside a gateway (tests).
   */
  whenDurable?: (done: () => void) => void;
  /**
   * A QoS 1 delivery about to be emitted (client id, packet id, hash of topic + payload from
   * `deliveryHash`): false when the same delivery was taken moments ago, i.e. a resend after a
   * PUBACK was lost; the driver then acknowledges it without emitting its readings again.
   */
  delivery?: (client: string, packetId: number, hash: number) => boolean;
  /** Counted drops with samples for this driver instance (reason → count). */
  readonly drops: DropCounter;
  readonly log: Logger;
  /** Wall clock in ms, injectable for tests. Drivers use it only to stamp readings that carry no time. */
  now(): number;
}

/** The hash `DriverContext.delivery` takes: FNV-1a (32 bit) of a topic and a payload. */
export function deliveryHash(topic: string, payload: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < topic.length; i++) h = Math.imul(h ^ topic.charCodeAt(i), 0x01000193);
  for (let i = 0; i < payload.length; i++) h = Math.imul(h ^ payload[i]!, 0x01000193); // per message byte: i < length
  return h >>> 0;
}

export type DriverState = 'starting' | 'up' | 'degraded' | 'down' | 'stopped';

export interface DriverHealth {
  state: DriverState;
  /** What is wrong, in words a user can act on (e.g. "port /dev/ttyUSB0 missing; retrying in 4s"). */
  detail?: string;
  /** When the state last changed (ms since epoch). */
  since: number;
  /** Where the driver accepts connections, when it listens (an embedded broker): its bound host and port. */
  listening?: { host: string; port: number };
}

export interface Driver {
  /** Instance name from the gateway config (`inputs[].name`). */
  readonly name: string;
  /** Driver kind (`serial`, `gpio`, `mqtt`, ...). */
  readonly kind: string;
  /** Start reading. Resolves once the driver is running (it may still be waiting for a device). */
  start(ctx: DriverContext): Promise<void>;
  /** Stop and release the device; outputs go to their safe state. Idempotent. */
  stop(): Promise<void>;
  health(): DriverHealth;
  /** Driver-specific counters (readings, bytes, reconnects...). Drops are in `ctx.drops`. */
  counters(): Record<string, number>;
  /**
   * Local actions: the runtime hands every alert event (raised / active / cleared) to drivers
   * that drive outputs (a GPIO buzzer or lamp). Drivers without outputs leave it out.
   */
  onAlert?(alert: AlertRecord): void;
}

/** What the runtime hands a driver at creation (things shared across drivers). */
export interface DriverDeps {
  log: Logger;
  /** Directory for driver state (if any), under the gateway's data dir. */
  dataDir: string;
  /** Services other parts of the runtime publish for drivers, by name (e.g. a simulated GPIO backend). */
  services: Map<string, unknown>;
  /** The gateway clock (ms), as `DriverContext.now`; for health times before `start`. Default: Date.now. */
  now?: () => number;
}

/**
 * A driver's health as a small state machine, the one every driver keeps: the state, what is wrong
 * in words, and since when (by the injected clock). `since` moves only when the state or its
 * detail changes, so a driver repeating "reconnecting" keeps the time it started to.
 */
export class DriverHealthState {
  private state: DriverState = 'stopped';
  private detail: string | undefined;
  private since: number;

  constructor(private readonly now: () => number = Date.now) {
    this.since = now();
  }

  /** Move to `state` (with what is wrong, if anything). */
  set(state: DriverState, detail?: string): void {
    if (state === this.state && detail === this.detail) return;
    this.state = state;
    this.detail = detail;
    this.since = this.now();
  }

  get current(): DriverState {
    return this.state;
  }

  health(): DriverHealth {
    return { state: this.state, detail: this.detail, since: this.since };
  }
}
