/**
 * Finding the record a broker will not take when it says nothing but closes the connection: a
 * packet over its limit (MQTT 3.1.1 has no way to say so), a topic its ACL or policy refuses (AWS
 * IoT Core closes the connection on an unauthorised publish), a payload it cannot parse. The record
 * stays in the outbox, so every connection would send it again and be closed again: one record
 * stops the uplink.
 *
 * After `STRIKES` connections in a row closed with publishes in flight within `QUICK_CLOSE_MS` of
 * coming up (a record the broker refuses is sent again first thing after each reconnect; a
 * connection that lasted is not a strike, so a cellular link that drops now and then never starts
 * probing), the forwarder sends one publish at a time (batches of one record). A record alone in flight at two closes in a row is the
 * one: it is kept back (quarantined). `PROBE_ACKS` acknowledgements in a row end the probing. A
 * network that drops connections costs probing, never a record: that needs the same record alone
 * in flight at two drops in a row.
 */

/** Connections closed in a row with publishes in flight before probing starts. */
export const STRIKES = 3;
/** A connection closed later than this after coming up is not a strike (and ends a run of them). */
export const QUICK_CLOSE_MS = 10_000;
/** Acknowledgements in a row (without a close) that end the probing, and that make a connection's close not a strike. */
export const PROBE_ACKS = 100;

export type ProbeVerdict =
  | { kind: 'none' }
  | { kind: 'probing'; closes: number }
  /** This publish (its first row id) was alone in flight at two closes in a row. */
  | { kind: 'quarantine'; first: number };

export class CloseProbe {
  /** Publishes in flight on this connection: first row id → packet bytes. */
  private readonly inFlight = new Map<number, number>();
  private strikes = 0;
  private probing = false;
  private acksInARow = 0;
  private suspect: number | undefined;

  /** True while publishes go one at a time (and batches hold one record). */
  get active(): boolean {
    return this.probing;
  }

  /** Publishes that may await a PUBACK at once. */
  get window(): number {
    return this.probing ? 1 : Infinity;
  }

  sent(first: number, size: number): void {
    this.inFlight.set(first, size);
  }

  /** The PUBACK of the publish that began with this row: its size, if it was in flight. */
  acked(first: number): number | undefined {
    const size = this.inFlight.get(first);
    if (size === undefined) return undefined;
    this.inFlight.delete(first);
    if (this.suspect === first) this.suspect = undefined;
    if (++this.acksInARow >= PROBE_ACKS) {
      this.strikes = 0;
      this.probing = false;
    }
    return size;
  }

  /** Size of the largest publish in flight. */
  largest(): number | undefined {
    let max: number | undefined;
    for (const size of this.inFlight.values()) if (max === undefined || size > max) max = size;
    return max;
  }

  /** The connection is gone, after `onlineMs` up. */
  lost(onlineMs: number): ProbeVerdict {
    const inFlight = [...this.inFlight.keys()];
    this.inFlight.clear();
    this.acksInARow = 0;
    if (inFlight.length === 0) {
      if (!this.probing) this.strikes = 0;
      return { kind: 'none' };
    }
    if (this.probing) {
      if (inFlight.length !== 1) return { kind: 'none' };
      const first = inFlight[0]!;
      if (this.suspect !== first) {
        this.suspect = first;
        return { kind: 'none' };
      }
      this.suspect = undefined;
      return { kind: 'quarantine', first };
    }
    if (onlineMs >= QUICK_CLOSE_MS) {
      this.strikes = 0;
      return { kind: 'none' };
    }
    if (++this.strikes < STRIKES) return { kind: 'none' };
    this.probing = true;
    return { kind: 'probing', closes: this.strikes };
  }
}
