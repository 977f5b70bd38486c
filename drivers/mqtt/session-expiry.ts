/**
 * Ends the persistent sessions (clean session off) of clients that stay away too long, as
 * Mosquitto's `persistent_client_expiration` and MQTT 5's session expiry do. MQTT 3.1.1 lets a
 * broker keep such a session for ever, and aedes does: a device with a new client id at every boot,
 * or a dashboard uninstalled, left its subscriptions matched against every publish and its queue
 * holding part of `max_queued_bytes` for good, so a real subscriber that went away for an hour
 * found the shared bound full and lost messages to sessions nobody would ever resume.
 */

/** The part of aedes's persistence a session lives in (methods looked up at each call: OfflineQueues wraps some). */
interface SessionPersistence {
  cleanSubscriptions(client: { id: string }): Promise<unknown>;
  outgoingStream(client: { id: string }): AsyncIterable<{ messageId?: number }>;
  outgoingClearMessageId(client: { id: string }, packet: { messageId?: number }): Promise<unknown>;
  cleanIncoming?(client: { id: string }): Promise<unknown>;
}

export class SessionExpiry {
  /** Clients away with a persistent session → the timer that ends it. */
  private readonly away = new Map<string, NodeJS.Timeout>();
  /** Sessions ended because their client stayed away longer than the expiry. */
  expired = 0;

  constructor(
    private readonly persistence: SessionPersistence,
    /** ms a client may stay away before its session ends; undefined: never. */
    private readonly expiryMs: number | undefined,
    /** Is a client of this id connected now (it may have come back while the session was being ended)? */
    private readonly connected: (clientId: string) => boolean,
    private readonly onExpired: (clientId: string, queued: number) => void,
    private readonly onError: (clientId: string, err: unknown) => void,
  ) {}

  /** Persistent sessions whose client is away now. */
  get sessionsAway(): number {
    return this.away.size;
  }

  /** A client connected (a clean session ends any old one in aedes itself). */
  connect(clientId: string): void {
    const t = this.away.get(clientId);
    if (t) clearTimeout(t);
    this.away.delete(clientId);
  }

  /** A client's connection closed; `clean` is the session flag it connected with. */
  disconnect(clientId: string, clean: boolean): void {
    if (clean || this.expiryMs === undefined || this.connected(clientId)) return;
    this.connect(clientId);
    const t = setTimeout(() => {
      this.away.delete(clientId);
      if (!this.connected(clientId)) this.end(clientId).catch((err) => this.onError(clientId, err));
    }, this.expiryMs);
    t.unref();
    this.away.set(clientId, t);
  }

  /** Stop every timer (the broker closes). */
  close(): void {
    for (const t of this.away.values()) clearTimeout(t);
    this.away.clear();
  }

  /** End a session: its subscriptions, what is queued for it and its unfinished QoS 2 receipts. */
  private async end(clientId: string): Promise<void> {
    const client = { id: clientId };
    const p = this.persistence;
    await p.cleanSubscriptions(client);
    // Messages queued for a client away have no packet id yet: each clear removes one of them.
    let queued = 0;
    for await (const packet of p.outgoingStream(client)) {
      await p.outgoingClearMessageId(client, { messageId: packet.messageId });
      queued++;
    }
    await p.cleanIncoming?.(client);
    this.expired++;
    this.onExpired(clientId, queued);
  }
}
