/**
 * The largest MQTT packet the upstream broker takes. A broker closes the connection on a bigger
 * one (Mosquitto's `max_packet_size`, AWS IoT Core's 128 KB, ...) — and since the message stays in
 * the outbox, the next connection sends it again and is closed again: one message stops the whole
 * uplink. The forwarder keeps such a message back instead (it stays in the outbox).
 *
 * The limit is the smallest of: `upstream.max_packet_size`; the Maximum Packet Size an MQTT 5 broker
 * announces in its CONNACK; and one learnt when the broker closes the connection on a packet — at
 * once when an MQTT 5 broker says so (DISCONNECT 0x95), or when an MQTT 3.1.1 broker closes it
 * `STRIKES` times in a row while the same publish, the largest in flight, awaits its PUBACK. A
 * learnt limit is never below a packet the broker acknowledged, so a flaky link cannot lower it
 * beyond what the broker has shown it takes.
 */

/** Connections closed in a row with the same largest publish in flight before its size is taken as over the limit. */
export const STRIKES = 3;

/** MQTT 5 DISCONNECT reason code: Packet too large. */
export const PACKET_TOO_LARGE = 0x95;

/** Bytes of a QoS 1 PUBLISH packet with this topic and payload (fixed header, topic, packet id, MQTT 5's empty properties). */
export function publishPacketBytes(topic: string, payloadBytes: number, protocolVersion: 4 | 5): number {
  const remaining = 2 + Buffer.byteLength(topic) + 2 + (protocolVersion === 5 ? 1 : 0) + payloadBytes;
  return 1 + varintBytes(remaining) + remaining;
}

function varintBytes(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

/** Where the limit in force comes from, as the logs say it. */
export type LimitSource = 'upstream.max_packet_size' | 'announced by the broker (MQTT 5 CONNACK)' | 'learnt from the broker closing the connection';

export interface Learnt {
  /** The packet the broker would not take. */
  size: number;
  /** The limit now in force. */
  limit: number;
  why: string;
}

export class PacketLimit {
  private announced = Infinity;
  private learnt = Infinity;
  private largestAcked = 0;
  /** Publishes in flight on this connection: first row id → packet bytes. */
  private readonly inFlight = new Map<number, number>();
  private suspect: { first: number; size: number; strikes: number } | null = null;

  constructor(private readonly configured = Infinity) {}

  /** The largest packet that may be sent; Infinity when none is known. */
  get max(): number {
    return Math.min(this.configured, this.announced, this.learnt);
  }

  get source(): LimitSource | undefined {
    const max = this.max;
    if (max === Infinity) return undefined;
    if (max === this.configured) return 'upstream.max_packet_size';
    return max === this.announced ? 'announced by the broker (MQTT 5 CONNACK)' : 'learnt from the broker closing the connection';
  }

  /** A new connection; `announced` is the CONNACK's Maximum Packet Size, if any. */
  connected(announced: number | undefined): void {
    this.announced = announced && announced > 0 ? announced : Infinity;
    this.inFlight.clear();
  }

  sent(first: number, size: number): void {
    this.inFlight.set(first, size);
  }

  acked(first: number): void {
    const size = this.inFlight.get(first);
    if (size === undefined) return;
    this.inFlight.delete(first);
    if (size > this.largestAcked) this.largestAcked = size;
    if (this.suspect?.first === first) this.suspect = null;
  }

  /** The broker said the packet was too large (MQTT 5 DISCONNECT 0x95): the largest in flight was. */
  refused(): Learnt | undefined {
    const largest = this.largestInFlight();
    this.inFlight.clear();
    return largest && this.learn(largest.size, 'the broker closed the connection with reason 0x95 (packet too large)');
  }

  /** The connection is gone: count a strike against the largest publish in flight. */
  lost(): Learnt | undefined {
    const largest = this.largestInFlight();
    this.inFlight.clear();
    if (!largest) {
      this.suspect = null;
      return undefined;
    }
    if (this.suspect?.first === largest.first) this.suspect.strikes++;
    else this.suspect = { ...largest, strikes: 1 };
    if (this.suspect.strikes < STRIKES) return undefined;
    this.suspect = null;
    return this.learn(largest.size, `the broker closed the connection ${STRIKES} times in a row while this ${largest.size}-byte publish, the largest in flight, awaited its PUBACK`);
  }

  private largestInFlight(): { first: number; size: number } | undefined {
    let best: { first: number; size: number } | undefined;
    for (const [first, size] of this.inFlight) if (!best || size > best.size) best = { first, size };
    return best;
  }

  private learn(size: number, why: string): Learnt | undefined {
    // The broker took a packet this large before: its size is not what closes the connection.
    if (size <= this.largestAcked || size > this.max) return undefined;
    this.learnt = size - 1;
    return { size, limit: this.max, why };
  }
}
