/**
 * Bounds on what the embedded broker keeps for clients with a persistent session (clean session
 * off). aedes's in-memory persistence queues every QoS 1/2 message for such a client while it is
 * away, without limit: a dashboard that subscribed with a persistent session and never came back
 * (uninstalled, renamed, a new client id at every boot) made the gateway keep every matching
 * reading until it ran out of memory. As Mosquitto does (`max_queued_messages`, 1000 by default),
 * a client's queue is bounded in messages, and all queues together in bytes; a message beyond is
 * not queued for that client (counted, logged), and still goes to everyone else.
 */

/** The part of aedes's persistence this wraps (methods looked up at each call, so replaced in place). */
interface OutgoingPersistence {
  outgoingEnqueue(sub: { clientId: string }, packet: QueuedPacket): Promise<void>;
  outgoingEnqueueCombi(subs: Array<{ clientId: string }>, packet: QueuedPacket): Promise<void>;
  outgoingClearMessageId(client: { id: string }, packet: { messageId?: number }): Promise<unknown>;
}

interface QueuedPacket {
  topic: string;
  payload: Buffer | string;
}

export interface OfflineQueueLimits {
  /** Messages queued for one client. */
  perClient: number;
  /** Bytes (topic + payload) queued for all clients together. */
  totalBytes: number;
}

/** Called for each message not queued for a client: why, which client, which topic. */
export type QueueDropListener = (clientId: string, topic: string, why: 'client_full' | 'total_full') => void;

interface Queue {
  n: number;
  bytes: number;
}

export class OfflineQueues {
  private readonly queues = new Map<string, Queue>();
  /** Bytes queued for all clients. */
  bytes = 0;
  /** Messages not queued for a client because a bound was reached. */
  dropped = 0;

  constructor(
    private readonly limits: OfflineQueueLimits,
    /** Is the client connected now? Its messages are in flight then: never refused. */
    private readonly connected: (clientId: string) => boolean,
    private readonly onDrop: QueueDropListener,
  ) {}

  /** Replace the persistence's outgoing methods with bounded ones (call once, after the broker is set up). */
  wrap(p: OutgoingPersistence): void {
    const enqueue = p.outgoingEnqueue.bind(p);
    const combi = p.outgoingEnqueueCombi.bind(p);
    const clear = p.outgoingClearMessageId.bind(p);
    // aedes queues every QoS 1/2 message for every client with a persistent session, connected or
    // not, until its PUBACK. A connected client's is in flight: counted, never refused (aedes would
    // take a missing one for an error and disconnect the client; a slow subscriber is dropped by
    // drain_timeout instead). A client away: bounded.
    p.outgoingEnqueue = (sub, packet) => {
      this.add(sub.clientId, sizeOf(packet));
      return enqueue(sub, packet);
    };
    p.outgoingEnqueueCombi = (subs, packet) => {
      const kept = subs.filter((s) => this.admit(s.clientId, packet));
      return kept.length > 0 ? combi(kept, packet) : Promise.resolve();
    };
    p.outgoingClearMessageId = async (client, packet) => {
      const removed = await clear(client, packet);
      if (removed) this.release(client.id);
      return removed;
    };
  }

  /** Messages queued for a client (delivered and not yet acknowledged, or waiting for it to come back). */
  queued(clientId: string): number {
    return this.queues.get(clientId)?.n ?? 0;
  }

  private admit(clientId: string, packet: QueuedPacket): boolean {
    const size = sizeOf(packet);
    const why = this.connected(clientId) ? undefined : this.queued(clientId) >= this.limits.perClient ? 'client_full' : this.bytes + size > this.limits.totalBytes ? 'total_full' : undefined;
    if (why) {
      this.dropped++;
      this.onDrop(clientId, packet.topic, why);
      return false;
    }
    this.add(clientId, size);
    return true;
  }

  private add(clientId: string, size: number): void {
    let q = this.queues.get(clientId);
    if (!q) this.queues.set(clientId, (q = { n: 0, bytes: 0 }));
    q.n++;
    q.bytes += size;
    this.bytes += size;
  }

  /** A queued message was acknowledged (or discarded with its session): its share of the bytes goes. */
  private release(clientId: string): void {
    const q = this.queues.get(clientId);
    if (!q) return;
    const size = q.bytes / q.n;
    q.n--;
    q.bytes -= size;
    this.bytes -= size;
    if (q.n === 0) {
      this.bytes -= q.bytes; // rounding
      this.queues.delete(clientId);
    }
  }
}

function sizeOf(packet: QueuedPacket): number {
  return packet.topic.length + (typeof packet.payload === 'string' ? Buffer.byteLength(packet.payload) : packet.payload.length);
}
