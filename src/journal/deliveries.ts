/**
 * Redelivered QoS 1 publishes. When Edgewise dies after journaling a reading but before its
 * PUBACK left the socket, the device sends the message again after the restart (mqtt.js does so
 * without the DUP flag): without this it would be counted twice. A delivery is known by client id,
 * packet id and a hash of topic + payload; the journal keeps each one's key with its first reading,
 * so a restart rebuilds what it saw. Packet ids cycle (65,535 per client), so a match counts only
 * within the last two checkpoint intervals.
 */
export class Deliveries {
  private readonly byClient = new Map<string, Map<number, { hash: number; n: number }>>();
  private n = 0;
  /** Deliveries numbered at or below this are too old to match. */
  private floor = 0;
  private mark = 0;
  redelivered = 0;

  /** A delivery about to be taken: false when the same one was taken recently (a resend). */
  take(client: string, packetId: number, hash: number): boolean {
    let m = this.byClient.get(client);
    if (!m) this.byClient.set(client, (m = new Map()));
    const e = m.get(packetId);
    if (e && e.hash === hash && e.n > this.floor) {
      this.redelivered++;
      return false;
    }
    m.set(packetId, { hash, n: ++this.n });
    return true;
  }

  /** At each checkpoint: deliveries from before the previous one stop matching. */
  checkpoint(): void {
    this.floor = this.mark;
    this.mark = this.n;
  }
}

export function deliveryKey(client: string, packetId: number, hash: number): string {
  return `${client}\u0000${packetId}\u0000${hash}`;
}

export function parseDeliveryKey(key: string): [string, number, number] | undefined {
  const a = key.split('\u0000');
  return a.length === 3 ? [a[0]!, Number(a[1]), Number(a[2])] : undefined;
}
