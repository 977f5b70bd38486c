/**
 * The largest MQTT packet the upstream broker takes. A broker closes the connection on a bigger
 * one (Mosquitto's `max_packet_size`, AWS IoT Core's 128 KB, ...) — and since the message stays in
 * the outbox, the next connection sends it again and is closed again: one message stops the whole
 * uplink. The forwarder keeps such a message back instead (it stays in the outbox).
 *
 * The limit is the smallest of: `upstream.max_packet_size`; the Maximum Packet Size an MQTT 5 broker
 * announces in its CONNACK; and one learnt when an MQTT 5 broker closes the connection saying the
 * packet was too large (DISCONNECT 0x95): one byte below the largest publish sent on that
 * connection, unless the broker acknowledged a packet that large (then nothing is learnt, and the
 * close probe finds the record). (A broker that closes without a reason is left to
 * CloseProbe, which finds the record itself.)
 */

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
export type LimitSource = 'upstream.max_packet_size' | 'announced by the broker (MQTT 5 CONNACK)' | 'learnt from the broker (MQTT 5 DISCONNECT 0x95)';

export interface Learnt {
  /** The packet the broker would not take. */
  size: number;
  /** The limit now in force. */
  limit: number;
}

export class PacketLimit {
  private announced = Infinity;
  private learnt = Infinity;
  private largestAcked = 0;

  constructor(private readonly configured = Infinity) {}

  /** The largest packet that may be sent; Infinity when none is known. */
  get max(): number {
    return Math.min(this.configured, this.announced, this.learnt);
  }

  get source(): LimitSource | undefined {
    const max = this.max;
    if (max === Infinity) return undefined;
    if (max === this.configured) return 'upstream.max_packet_size';
    return max === this.announced ? 'announced by the broker (MQTT 5 CONNACK)' : 'learnt from the broker (MQTT 5 DISCONNECT 0x95)';
  }

  /** A new connection; `announced` is the CONNACK's Maximum Packet Size, if any. */
  connected(announced: number | undefined): void {
    this.announced = announced && announced > 0 ? announced : Infinity;
  }

  /** The broker acknowledged a packet of this size: the limit is not below it. */
  acked(size: number): void {
    if (size > this.largestAcked) this.largestAcked = size;
  }

  /** The broker said a packet was too large (MQTT 5 DISCONNECT 0x95); `largest` is the largest publish sent on that connection. */
  refused(largest: number | undefined): Learnt | undefined {
    // The broker took a packet this large before: its size is not what closed the connection.
    if (largest === undefined || largest <= this.largestAcked || largest > this.max) return undefined;
    this.learnt = largest - 1;
    return { size: largest, limit: this.max };
  }
}
