/**
 * Redelivered QoS 1 publishes. When Edgewise dies after journaling a reading but before its
 * PUBACK left the socket, the device sends the message again after the restart (mqtt.js does so
 * without the DUP flag): without this it would be counted twice. A delivery is known by client id,
 * packet id and a hash of topic + payload; the journal keeps each one's key with its first reading,
 * so a restart rebuilds what it saw. Packet ids cycle (65,535 per client), so only the last two
 * checkpoint intervals are kept (memory stays bounded by the rate, not by the uptime).
 */
export class Deliveries {
  /** Per client: packet id → hash, for this checkpoint interval and the one before. */
  private cur = new Map<string, Map<number, number>>();
  private prev = new Map<string, Map<number, number>>();
  redelivered = 0;

  /** A delivery about to be taken: false when the same one was taken recently (a resend). */
  take(client: string, packetId: number, hash: number): boolean {
    if (this.cur.get(client)?.get(packetId) === hash || this.prev.get(client)?.get(packetId) === hash) {
      this.redelivered++;
      return false;
    }
    let m = this.cur.get(client);
    if (!m) this.cur.set(client, (m = new Map()));
    m.set(packetId, hash);
    return true;
  }

  /** At each checkpoint: deliveries from before the previous one are forgotten. */
  checkpoint(): void {
    this.prev = this.cur;
    this.cur = new Map();
  }
}

export function deliveryKey(client: string, packetId: number, hash: number): string {
  return `${client}\u0000${packetId}\u0000${hash}`;
}

export function parseDeliveryKey(key: string): [string, number, number] | undefined {
  const [client, packetId, hash, ...rest] = key.split('\u0000');
  return client !== undefined && hash !== undefined && rest.length === 0 ? [client, Number(packetId), Number(hash)] : undefined;
}
