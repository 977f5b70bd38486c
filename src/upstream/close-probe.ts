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
 * probing), the forwarder sends one publish at a time (batches of one record). A record alone in
 * flight at two closes in a row is the one: it is kept back (quarantined). `PROBE_ACKS`
 * acknowledgements in a row end the probing. A network that drops connections costs probing, never
 * a record: that needs the same record alone in flight at two drops in a row. The forwarder does
 * not count closes it knows another cause of (see `lost()` in index.ts).
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
  /** While probing: the publish in flight (its first row id), if any. */
  private inFlight: number | undefined;
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

  /** A publish went out (its first row id); only needed while probing. */
  sent(first: number): void {
    if (this.probing) this.inFlight = first;
  }

  /** A PUBACK came (for the publish that began with this row). */
  acked(first: number): void {
    if (this.inFlight === first) this.inFlight = undefined;
    if (this.suspect === first) this.suspect = undefined;
    if (++this.acksInARow >= PROBE_ACKS && (this.probing || this.strikes)) {
      this.strikes = 0;
      this.probing = false;
    }
  }

  /** The connection is gone, after `onlineMs` up, with `publishes` awaiting a PUBACK. */
  lost(onlineMs: number, publishes: number): ProbeVerdict {
    const alone = this.inFlight;
    this.inFlight = undefined;
    this.acksInARow = 0;
    if (publishes === 0) {
      if (!this.probing) this.strikes = 0;
      return { kind: 'none' };
    }
    if (this.probing) {
      if (alone === undefined || publishes !== 1) return { kind: 'none' };
      if (this.suspect !== alone) {
        this.suspect = alone;
        return { kind: 'none' };
      }
      this.suspect = undefined;
      return { kind: 'quarantine', first: alone };
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
