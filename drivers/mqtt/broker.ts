import net from 'node:net';
import { Aedes, type AuthenticateError, type Client, type PublishPacket } from 'aedes';
import { OfflineQueues } from './offline-queue.js';
import { SessionExpiry } from './session-expiry.js';
import type { Logger } from '../../src/core/log.js';
import { silentLogger } from '../../src/core/log.js';
import { filterCovers, topicMatches, shortTopic as short } from './topic.js';
import { verifyPassword, parseHash } from './password.js';
import { LoginGuard, LoginBlocked, LOGIN_GUARD_DEFAULTS } from './login-guard.js';
import { VerifiedPasswords } from './verified-passwords.js';
import { frameClientPackets, skipUnsubscribedPublishes } from './lean-publish.js';

/**
 * The embedded MQTT broker (aedes) that local devices publish to. Readings are taken in-process
 * from aedes's `published` hook: no second network hop. Also usable on its own (tests, demo) as
 * a plain broker: `startEmbeddedBroker({ port: 0, allowAnonymous: true })`.
 */
export interface BrokerAcl {
  /** Topic filters the client may publish to (`+`, `#`; `%u` = username, `%c` = client id). */
  publish: string[];
  /** Topic filters the client may subscribe to (a subscription must lie within one of them). */
  subscribe: string[];
}

interface BrokerUser extends BrokerAcl {
  username: string;
  /** `scrypt$N$r$p$salt$hash` from `hashPassword()` / `edgewise hash-password`. */
  password_hash: string;
}

/** What the embedded broker counts (the mqtt input reports them with a `broker_` prefix). */
export interface BrokerCounters {
  connections: number;
  auth_ok: number;
  auth_refused: number;
  /** Logins refused without a password check: the address is backing off, or the check queue is full. */
  auth_throttled: number;
  /** scrypt password checks run. */
  password_checks: number;
  /** Refused because a %c/%u in the ACL would be filled with + # / NUL or a leading $. */
  id_refused: number;
  clients_refused: number;
  preconnect_refused: number;
  preconnect_evicted: number;
  connections_dropped: number;
  retain_refused: number;
  publish_denied: number;
  subscribe_denied: number;
  oversized_disconnects: number;
  messages_in: number;
  /** Messages not queued for a client with a persistent session (its queue or all queues full). */
  queue_dropped: number;
  clients: number;
  preconnect_pending: number;
  retained_bytes: number;
  /** Bytes queued for clients with a persistent session (away, or in flight to them). */
  queued_bytes: number;
  /** Persistent sessions whose client is away now. */
  sessions_away: number;
  /** Persistent sessions ended because their client stayed away longer than the session expiry. */
  sessions_expired: number;
}

export interface EmbeddedBrokerOptions {
  /** Bind address. Default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 picks a free one. Default 1883. */
  port?: number;
  /** Largest MQTT packet accepted (bytes, fixed header included); bigger → client disconnected. Default 256 KiB. */
  maxPacketSize?: number;
  /** TCP_NODELAY on client sockets. Default true. */
  noDelay?: boolean;
  /** Allow clients without username. Default: true only when bound to loopback with no users. */
  allowAnonymous?: boolean;
  users?: BrokerUser[];
  /** ACL for anonymous clients. Default: everything. */
  anonymous?: BrokerAcl;
  /** Most connected clients (counting those still logging in); more get CONNACK 3 "server unavailable". Default 1000. */
  maxClients?: number;
  /** Most connections that have not sent CONNECT yet, in total; a new one beyond closes the oldest. Default 512. */
  maxPending?: number;
  /** Most connections without CONNECT from one address; more are refused at once. Default 64. */
  maxPendingPerAddress?: number;
  /** Failed password checks from one address before it backs off (1 s, doubling to 60 s). Default 5. */
  loginFailuresPerAddress?: number;
  /** Test hook: an address's first back-off, ms (then doubling to 60 s). Default 1 s. */
  loginBackoffMs?: number;
  /** Password checks waiting for the (one) scrypt slot; more logins are refused at once. Default 16. */
  loginQueue?: number;
  /** Bytes of retained messages (topic + payload) kept; a retained publish beyond is delivered but not retained. Default 1 MiB. */
  maxRetainedBytes?: number;
  /** Messages queued for one client with a persistent session (QoS 1/2, while it is away or until it acknowledges). Default 1000, as Mosquitto's max_queued_messages. */
  maxQueuedMessages?: number;
  /** Bytes (topic + payload) queued for all such clients together. Default 16 MiB. */
  maxQueuedBytes?: number;
  /** ms a client with a persistent session may stay away before the session ends (subscriptions and queue); undefined: never. Default never. */
  sessionExpiry?: number;
  /** ms to wait for CONNECT. Default 30 s. */
  connectTimeout?: number;
  /** ms to wait for a slow subscriber's socket before dropping it. Default 30 s. */
  drainTimeout?: number;
  log?: Logger;
  /** Every accepted PUBLISH from a client (not $SYS, not the broker's own). */
  onPublish?: (topic: string, payload: Buffer, clientId: string, packet?: { qos: number; messageId?: number }) => void;
  /**
   * Acknowledged means durable: when set, an accepted PUBLISH goes to `onPublish` before it is
   * acknowledged, and a QoS 1/2 PUBACK/PUBREC waits for `whenDurable` (aedes writes the PUBACK
   * once authorizePublish calls back, before `published` runs). QoS 0 is taken without waiting.
   */
  whenDurable?: (done: () => void) => void;
  /** PUBLISH framed and decoded by drivers/mqtt/lean-publish.ts, unsubscribed ones kept out of aedes's publish series. Default true (false: aedes's own path, for comparison). */
  leanPublish?: boolean;
  /** Refused input (oversized packets), for a DropCounter. */
  onDrop?: (reason: string, sample: unknown, detail: string) => void;
}

export interface EmbeddedBroker {
  readonly host: string;
  readonly port: number;
  readonly aedes: Aedes;
  /** `mqtt://host:port` */
  readonly url: string;
  connectedClients(): number;
  counters(): BrokerCounters;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

interface ClientAcl {
  publish: string[];
  subscribe: string[];
}

/** Start an aedes broker on `host:port`. Rejects with a clear error if the port cannot be bound. */
export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? silentLogger();
  const users = new Map<string, BrokerUser>();
  for (const u of opts.users ?? []) {
    const bad = parseHash(u.password_hash);
    if (typeof bad === 'string') throw new Error(`embedded broker: user "${u.username}": password_hash ${bad}`);
    users.set(u.username, u);
  }
  const allowAnonymous = opts.allowAnonymous ?? (LOOPBACK.has(host) && users.size === 0);
  const anonAcl: BrokerAcl = opts.anonymous ?? { publish: ['#'], subscribe: ['#'] };
  const maxPacket = opts.maxPacketSize ?? 256 * 1024;
  const maxClients = opts.maxClients ?? 1000;
  const maxPending = opts.maxPending ?? 512;
  const maxPendingPerAddress = opts.maxPendingPerAddress ?? 64;
  const acls = new WeakMap<Client, ClientAcl>();
  /** Clients past max_clients' check: logging in or connected, until their socket closes. */
  const admitted = new Set<Client>();
  const pending = new PendingConnections(maxPending, maxPendingPerAddress);
  const guard = new LoginGuard({
    ...LOGIN_GUARD_DEFAULTS,
    failuresPerAddress: opts.loginFailuresPerAddress ?? LOGIN_GUARD_DEFAULTS.failuresPerAddress,
    backoffMs: opts.loginBackoffMs ?? LOGIN_GUARD_DEFAULTS.backoffMs,
    maxQueued: opts.loginQueue ?? LOGIN_GUARD_DEFAULTS.maxQueued,
  });
  const verified = new VerifiedPasswords();
  /** Password checks running or queued, by user and password (bounded by the login queue). */
  const checking = new Map<string, Promise<boolean>>();
  const retained = new RetainedBudget(opts.maxRetainedBytes ?? 1024 * 1024);
  const c: Omit<BrokerCounters, 'clients' | 'preconnect_pending' | 'retained_bytes' | 'queue_dropped' | 'queued_bytes' | 'sessions_away' | 'sessions_expired'> = {
    connections: 0,
    auth_ok: 0,
    auth_refused: 0,
    /** Logins refused without a password check: the address is backing off, or the check queue is full. */
    auth_throttled: 0,
    /** scrypt password checks run. */
    password_checks: 0,
    /** Refused because a %c/%u in the ACL would be filled with + # / NUL or a leading $. */
    id_refused: 0,
    clients_refused: 0,
    preconnect_refused: 0,
    preconnect_evicted: 0,
    connections_dropped: 0,
    retain_refused: 0,
    publish_denied: 0,
    subscribe_denied: 0,
    oversized_disconnects: 0,
    messages_in: 0,

  };
  const limiter = new LogLimiter(log);

  const aedes = await Aedes.createBroker({
    connectTimeout: opts.connectTimeout ?? 30_000,
    drainTimeout: opts.drainTimeout ?? 30_000,
    heartbeatInterval: 60_000,
    preConnect(client, _packet, cb) {
      pending.connected(client.conn as net.Socket);
      cb(null, true);
    },
    authenticate(client, username, password, done) {
      const fail = (code: number, why: string) => {
        const err = new Error(why) as AuthenticateError;
        err.returnCode = code as AuthenticateError['returnCode'];
        done(err, false);
      };
      const refuse = (why: string, code: number) => {
        c.auth_refused++;
        limiter.warn('auth', { client: client.id, username, remote: remoteOf(client), why }, `embedded broker: refused client "${client.id}": ${why}`);
        fail(code, why);
      };
      if (admitted.size >= maxClients) {
        c.clients_refused++;
        limiter.warn('max_clients', { remote: remoteOf(client), max_clients: maxClients }, 'embedded broker: client refused (CONNACK 3): max_clients reached; raise broker.max_clients');
        return fail(3, 'max_clients reached');
      }
      admitted.add(client);
      (client.conn as net.Socket).once('close', () => admitted.delete(client));
      const admit = (acl: BrokerAcl, user: string) => {
        const expanded = expandAcl(acl, user, client.id);
        if (typeof expanded === 'string') {
          c.id_refused++;
          limiter.warn('id_refused', { client: client.id.slice(0, 100), username: user, remote: remoteOf(client) }, `embedded broker: refused client (CONNACK 2): ${expanded}`);
          return fail(2, expanded);
        }
        acls.set(client, expanded);
        c.auth_ok++;
        done(null, true);
      };
      if (username === undefined || username === '') {
        if (!allowAnonymous) return refuse('anonymous clients are not allowed (give a username, or set broker.allow_anonymous)', 5);
        return admit(anonAcl, '');
      }
      const user = users.get(username);
      if (!user || !password) return refuse(`bad username or password for "${username}"`, 4);
      // A device reconnecting with the password it logged in with before costs a keyed hash, not scrypt.
      if (verified.matches(user, password)) return admit(user, username);
      const address = (client.conn as net.Socket).remoteAddress ?? '?';
      const throttled = (why: string) => {
        c.auth_throttled++;
        limiter.warn('auth_throttled', { username, remote: remoteOf(client), why }, `embedded broker: login refused (CONNACK 3) without a password check: ${why}`);
        fail(3, why);
      };
      // Devices reconnecting together after a restart share one check of the same password.
      const key = verified.key(user, password);
      let check = checking.get(key);
      if (!check) {
        const attempt = guard.attempt(address, () => {
          c.password_checks++;
          return verifyPassword(password, user.password_hash);
        });
        if (typeof attempt === 'string') {
          return throttled(attempt === 'blocked' ? `too many failed logins from ${address}; backing off` : 'too many logins waiting for a password check');
        }
        check = attempt;
        checking.set(key, attempt);
        const done = () => void checking.delete(key);
        attempt.then(done, done);
      }
      check.then(
        (ok) => {
          if (!ok) return refuse(`bad username or password for "${username}"`, 4);
          verified.remember(user, password);
          admit(user, username);
        },
        (e) => (e instanceof LoginBlocked ? throttled(`too many failed logins from ${address}; backing off`) : refuse('password check failed', 3)),
      );
    },
    authorizePublish(client, packet, cb) {
      if (!client) return cb(null); // the broker's own will publishing
      const topic = packet.topic;
      if (topic.startsWith('$SYS')) return cb(new Error('$SYS topics are reserved'));
      const acl = acls.get(client);
      if (!acl || !anyMatch(acl.publish, topic)) {
        c.publish_denied++;
        limiter.warn('publish_acl', { client: client.id, topic: short(topic) }, `embedded broker: client "${client.id}" may not publish to "${short(topic)}"; disconnected (see broker users[].publish)`);
        return cb(new Error(`not authorised to publish to ${short(topic)}`));
      }
      if (packet.retain && !retained.admit(topic, packet.payload.length)) {
        packet.retain = false;
        c.retain_refused++;
        limiter.warn('retain', { client: client.id, topic: short(topic) }, `embedded broker: retained messages exceed ${retained.max} bytes; "${short(topic)}" delivered but not retained`);
      }
      if (!opts.whenDurable || !opts.onPublish) return cb(null);
      c.messages_in++;
      try {
        opts.onPublish(topic, packet.payload as Buffer, client.id, packet);
      } catch (e) {
        log.error({ err: e }, 'embedded broker: publish handler failed');
      }
      if (packet.qos === 0) cb(null);
      else opts.whenDurable(() => cb(null));
    },
    authorizeSubscribe(client, sub, cb) {
      const acl = acls.get(client);
      if (!acl || !acl.subscribe.some((f) => filterCovers(f, sub.topic))) {
        c.subscribe_denied++;
        limiter.warn('subscribe_acl', { client: client.id, topic: short(sub.topic) }, `embedded broker: client "${client.id}" may not subscribe to "${short(sub.topic)}" (SUBACK 128)`);
        return cb(null, null);
      }
      cb(null, sub);
    },
    published(packet, client, cb) {
      if (client && packet.topic.charCodeAt(0) !== 36 /* $ */) take(packet, client);
      cb(null);
    },
  });
  const limits = { perClient: opts.maxQueuedMessages ?? 1000, totalBytes: opts.maxQueuedBytes ?? 16 * 1024 * 1024 };
  const clients = (aedes as unknown as { clients: Record<string, unknown> }).clients;
  const queues = new OfflineQueues(limits, (id) => clients[id] !== undefined, (client, topic, why) =>
    limiter.warn('queue', { client, topic: short(topic), why }, why === 'client_full'
      ? `embedded broker: client "${client}" (persistent session) has ${limits.perClient} messages queued; "${short(topic)}" not queued for it (raise broker.max_queued_messages; a client gone for good keeps its session until it connects once with a clean session)`
      : `embedded broker: the queues of clients with a persistent session hold ${limits.totalBytes} bytes; "${short(topic)}" not queued for "${client}" (raise broker.max_queued_bytes)`),
  );
  const persistence = (aedes as unknown as { persistence: Parameters<OfflineQueues['wrap']>[0] & ConstructorParameters<typeof SessionExpiry>[0] }).persistence;
  queues.wrap(persistence);
  const sessions = new SessionExpiry(
    persistence,
    opts.sessionExpiry,
    (id) => clients[id] !== undefined,
    (client, queued) => log.info({ client, queued }, `embedded broker: the persistent session of client "${client}" ended: away longer than broker.session_expiry (${queued} queued messages discarded)`),
    (client, err) => log.error({ client, err }, `embedded broker: ending the persistent session of client "${client}" failed`),
  );
  aedes.on('client', (client) => sessions.connect(client.id));
  aedes.on('clientDisconnect', (client) => sessions.disconnect(client.id, client.clean));
  /** A client's PUBLISH, once aedes has taken it (authorizePublish took it already when durable). */
  function take(packet: PublishPacket, client: Client): void {
    if (!opts.onPublish || opts.whenDurable) return;
    c.messages_in++;
    try {
      opts.onPublish(packet.topic, packet.payload as Buffer, client.id);
    } catch (e) {
      log.error({ err: e }, 'embedded broker: publish handler failed');
    }
  }
  const lean = opts.leanPublish ?? true;
  if (lean) skipUnsubscribedPublishes(aedes, take);
  aedes.on('clientError', (client, err) => log.debug({ client: client?.id, err: err.message }, 'embedded broker: client error'));
  aedes.on('connectionError', (client, err) => log.debug({ client: client?.id, err: err.message }, 'embedded broker: connection error'));

  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: opts.noDelay ?? true }, (socket) => {
    c.connections++;
    const seat = pending.add(socket);
    if (seat.refused) {
      c.preconnect_refused++;
      limiter.warn('preconnect_refused', { remote: socket.remoteAddress, max: maxPendingPerAddress }, `embedded broker: connection from ${socket.remoteAddress} refused: it already has ${maxPendingPerAddress} connections that sent no CONNECT (broker.max_pending_per_address)`);
      socket.destroy();
      return;
    }
    if (seat.evicted) {
      c.preconnect_evicted++;
      limiter.warn('preconnect_evicted', { remote: seat.evicted.remoteAddress, max: maxPending }, `embedded broker: ${maxPending} connections without CONNECT (broker.max_pending_connections): closed the oldest, from ${seat.evicted.remoteAddress}`);
      seat.evicted.destroy();
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const client = aedes.handle(socket);
    const oversized = (size: number, type: number) => {
      c.oversized_disconnects++;
      const detail = `client "${client.id ?? '?'}" (${socket.remoteAddress}:${socket.remotePort}) sent a ${PACKET_NAMES[type] ?? `type-${type}`} packet of ${size} bytes > broker.max_packet_size ${maxPacket}; disconnected`;
      opts.onDrop?.('oversized', { client: client.id, type: PACKET_NAMES[type], bytes: size, read: socket.bytesRead }, detail);
      limiter.warn('oversized', { client: client.id, bytes: size }, `embedded broker: ${detail}`);
    };
    if (lean) frameClientPackets(client, socket, maxPacket, oversized);
    else guardPacketSize(socket, maxPacket, oversized);
  });
  // A hard ceiling on sockets (file descriptors): connected clients plus those still to send CONNECT.
  server.maxConnections = maxClients + maxPending;
  server.on('drop', () => {
    c.connections_dropped++;
    limiter.warn('connections_dropped', { max: server.maxConnections }, `embedded broker: connection refused: ${server.maxConnections} sockets open (max_clients + max_pending_connections)`);
  });
  await new Promise<void>((resolve, reject) => {
    const onErr = (err: NodeJS.ErrnoException) => {
      aedes.close();
      const hint = err.code === 'EADDRINUSE' ? 'the port is in use: stop the other broker or pick another broker.port' : err.code === 'EADDRNOTAVAIL' ? 'no such local address: check broker.host' : err.message;
      reject(new Error(`embedded broker: cannot listen on ${host}:${opts.port ?? 1883}: ${hint}`));
    };
    server.once('error', onErr);
    server.listen(opts.port ?? 1883, host, () => {
      server.off('error', onErr);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'embedded broker: server error'));
  const port = (server.address() as net.AddressInfo).port;
  log.info({ host, port, users: users.size, anonymous: allowAnonymous }, `embedded broker listening on ${host}:${port}`);
  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    aedes,
    url: `mqtt://${host.includes(':') ? `[${host}]` : host}:${port}`,
    connectedClients: () => aedes.connectedClients,
    counters: () => ({ ...c, clients: aedes.connectedClients, preconnect_pending: pending.size, retained_bytes: retained.bytes, queue_dropped: queues.dropped, queued_bytes: Math.round(queues.bytes), sessions_away: sessions.sessionsAway, sessions_expired: sessions.expired }),
    close() {
      sessions.close();
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        aedes.close(() => {
          for (const s of sockets) s.destroy();
        });
      });
      return closing;
    },
  };
}

const PACKET_NAMES: Record<number, string> = { 1: 'CONNECT', 3: 'PUBLISH', 8: 'SUBSCRIBE', 10: 'UNSUBSCRIBE' };

function remoteOf(client: Client): string {
  const s = client.conn as net.Socket | undefined;
  return s?.remoteAddress ? `${s.remoteAddress}:${s.remotePort}` : '?';
}

function anyMatch(filters: string[], topic: string): boolean {
  for (const f of filters) if (topicMatches(f, topic)) return true;
  return false;
}

/** What `%u`/`%c` may not be filled with: a wildcard or level separator would widen the filter; a leading `$` would reach `$SYS`. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is refused on purpose (not allowed in MQTT topics)
const UNSAFE_IN_LEVEL = /[+#/\u0000]|^\$/;

/**
 * The ACL with `%u` and `%c` filled in, or why the client is refused: a value is put in
 * literally only when it is one plain topic level, so a client id `#` cannot turn
 * `sensors/%c/#` into `sensors/#/#`.
 */
export function expandAcl(acl: BrokerAcl, username: string, clientId: string): ClientAcl | string {
  const all = [...acl.publish, ...acl.subscribe];
  if (all.some((f) => f.includes('%c')) && UNSAFE_IN_LEVEL.test(clientId)) {
    return `client id ${JSON.stringify(clientId.slice(0, 100))} has + # / NUL or a leading $, and the ACL uses %c; use a plain client id`;
  }
  if (all.some((f) => f.includes('%u')) && UNSAFE_IN_LEVEL.test(username)) {
    return `username ${JSON.stringify(username.slice(0, 100))} has + # / NUL or a leading $, and the ACL uses %u`;
  }
  const sub = (f: string) => f.replaceAll('%u', username).replaceAll('%c', clientId);
  return { publish: acl.publish.map(sub), subscribe: acl.subscribe.map(sub) };
}

/**
 * Connections that have not sent CONNECT yet, capped per address (a new one beyond is refused)
 * and in total (a new one beyond closes the oldest: a flood of idle sockets cannot hold out a
 * device that sends CONNECT at once).
 */
class PendingConnections {
  private readonly sockets = new Map<net.Socket, string>(); // socket → its address; insertion order = oldest first
  private readonly perAddress = new Map<string, number>();
  constructor(private readonly max: number, private readonly maxPerAddress: number) {}

  get size(): number {
    return this.sockets.size;
  }

  add(socket: net.Socket): { refused: boolean; evicted?: net.Socket } {
    const addr = socket.remoteAddress ?? '?';
    const n = this.perAddress.get(addr) ?? 0;
    if (n >= this.maxPerAddress) return { refused: true };
    let evicted: net.Socket | undefined;
    if (this.sockets.size >= this.max) {
      evicted = this.sockets.keys().next().value;
      if (evicted) this.connected(evicted);
    }
    this.sockets.set(socket, addr);
    this.perAddress.set(addr, n + 1);
    socket.once('close', () => this.connected(socket));
    return { refused: false, evicted };
  }

  /** The socket sent CONNECT (or closed): it no longer counts. */
  connected(socket: net.Socket): void {
    const addr = this.sockets.get(socket);
    if (addr === undefined) return; // a remote address is gone once the socket is closed: use the one kept
    this.sockets.delete(socket);
    const n = (this.perAddress.get(addr) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(addr);
    else this.perAddress.set(addr, n);
  }
}

/** Bytes of retained messages per topic, so that retained storage (kept in memory by aedes) has a ceiling. */
class RetainedBudget {
  private readonly sizes = new Map<string, number>();
  bytes = 0;
  constructor(readonly max: number) {}

  /** May this retained publish be stored? An empty payload clears the topic's retained message. */
  admit(topic: string, payloadBytes: number): boolean {
    const old = this.sizes.get(topic) ?? 0;
    const size = payloadBytes === 0 ? 0 : topic.length * 2 + payloadBytes;
    if (this.bytes - old + size > this.max) return false;
    this.bytes += size - old;
    if (size === 0) this.sizes.delete(topic);
    else this.sizes.set(topic, size);
    return true;
  }
}

/**
 * Bound the MQTT packet size without a second stream: watch the bytes aedes reads (a `data`
 * listener next to aedes's `readable` one sees every chunk as aedes reads it, without changing
 * the flow mode) and follow packet boundaries from the fixed header (type byte + varint length).
 * A packet announced bigger than `max` destroys the socket before its body is buffered.
 */
function guardPacketSize(socket: net.Socket, max: number, onOversized: (size: number, type: number) => void): void {
  let remaining = 0; // body bytes still to skip in the current packet
  let inHeader = false; // have read the type byte, reading the varint
  let type = 0;
  let len = 0;
  let mult = 1;
  let hdr = 0;
  let dead = false;
  socket.on('data', (chunk: Buffer) => {
    if (dead) return;
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (remaining > 0) {
        const step = Math.min(remaining, n - i);
        remaining -= step;
        i += step;
        continue;
      }
      const b = chunk[i++]!; // i < n: a byte of the chunk (per byte: no checked read)
      if (!inHeader) {
        type = b >> 4;
        inHeader = true;
        len = 0;
        mult = 1;
        hdr = 1;
        continue;
      }
      len += (b & 0x7f) * mult;
      mult *= 128;
      hdr++;
      if (b & 0x80) {
        if (hdr > 5) {
          dead = true; // malformed length: the parser will error out too
          return;
        }
        continue;
      }
      inHeader = false;
      if (len + hdr > max) {
        dead = true;
        onOversized(len + hdr, type);
        socket.destroy();
        return;
      }
      remaining = len;
    }
  });
}

/** At most `perMinute` log lines per kind per minute, then one summary of how many were held back. */
class LogLimiter {
  private readonly windows = new Map<string, { start: number; n: number; held: number }>();
  constructor(private readonly log: Logger, private readonly perMinute = 20) {}
  warn(kind: string, obj: object, msg: string): void {
    const now = performance.now();
    let w = this.windows.get(kind);
    if (!w || now - w.start > 60_000) {
      if (w && w.held > 0) this.log.warn({ kind, held_back: w.held }, `embedded broker: ${w.held} more "${kind}" events in the last minute were not logged`);
      w = { start: now, n: 0, held: 0 };
      this.windows.set(kind, w);
    }
    if (w.n++ < this.perMinute) this.log.warn(obj, msg);
    else w.held++;
  }
}
