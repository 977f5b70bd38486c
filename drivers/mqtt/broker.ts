import net from 'node:net';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Logger } from '../../src/core/log.js';
import { silentLogger } from '../../src/core/log.js';
import { filterCovers, topicMatches } from './topic.js';
import { verifyPassword, parseHash } from './password.js';

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

export interface BrokerUser extends BrokerAcl {
  username: string;
  /** `scrypt$N$r$p$salt$hash` from `hashPassword()` / `edgewise hash-password`. */
  password_hash: string;
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
  /** Most connected clients; more are refused. Default 1000. */
  maxClients?: number;
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
  counters(): Record<string, number>;
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
  const acls = new WeakMap<Client, ClientAcl>();
  const c = {
    connections: 0,
    auth_ok: 0,
    auth_refused: 0,
    clients_refused: 0,
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
      if (aedes.connectedClients >= maxClients) {
        c.clients_refused++;
        limiter.warn('max_clients', { remote: remoteOf(client), max_clients: maxClients }, 'embedded broker: client refused: max_clients reached; raise broker.max_clients');
        return cb(null, false);
      }
      cb(null, true);
    },
    authenticate(client, username, password, done) {
      const refuse = (why: string, code: number) => {
        c.auth_refused++;
        limiter.warn('auth', { client: client.id, username, remote: remoteOf(client), why }, `embedded broker: refused client "${client.id}": ${why}`);
        const err = new Error(why) as AuthenticateError;
        err.returnCode = code as AuthenticateError['returnCode'];
        done(err, false);
      };
      if (username === undefined || username === '') {
        if (!allowAnonymous) return refuse('anonymous clients are not allowed (give a username, or set broker.allow_anonymous)', 5);
        acls.set(client, expandAcl(anonAcl, '', client.id));
        c.auth_ok++;
        return done(null, true);
      }
      const user = users.get(username);
      if (!user || !password) return refuse(`bad username or password for "${username}"`, 4);
      verifyPassword(password, user.password_hash).then(
        (ok) => {
          if (!ok) return refuse(`bad username or password for "${username}"`, 4);
          acls.set(client, expandAcl(user, username, client.id));
          c.auth_ok++;
          done(null, true);
        },
        () => refuse('password check failed', 3),
      );
    },
    authorizePublish(client, packet, cb) {
      if (!client) return cb(null); // the broker's own will publishing
      const topic = packet.topic;
      if (topic.startsWith('$SYS')) return cb(new Error('$SYS topics are reserved'));
      const acl = acls.get(client);
      if (!acl || !anyMatch(acl.publish, topic)) {
        c.publish_denied++;
        limiter.warn('publish_acl', { client: client.id, topic }, `embedded broker: client "${client.id}" may not publish to "${topic}"; disconnected (see broker users[].publish)`);
        return cb(new Error(`not authorised to publish to ${topic}`));
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
        limiter.warn('subscribe_acl', { client: client.id, topic: sub.topic }, `embedded broker: client "${client.id}" may not subscribe to "${sub.topic}" (SUBACK 128)`);
        return cb(null, null);
      }
      cb(null, sub);
    },
    published(packet, client, cb) {
      if (client && opts.onPublish && !opts.whenDurable && packet.topic.charCodeAt(0) !== 36 /* $ */) {
        c.messages_in++;
        try {
          opts.onPublish(packet.topic, packet.payload as Buffer, client.id);
        } catch (e) {
          log.error({ err: e }, 'embedded broker: publish handler failed');
        }
      }
      cb(null);
    },
  });
  aedes.on('clientError', (client, err) => log.debug({ client: client?.id, err: err.message }, 'embedded broker: client error'));
  aedes.on('connectionError', (client, err) => log.debug({ client: client?.id, err: err.message }, 'embedded broker: connection error'));

  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: opts.noDelay ?? true }, (socket) => {
    c.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const client = aedes.handle(socket);
    guardPacketSize(socket, maxPacket, (size, type) => {
      c.oversized_disconnects++;
      const detail = `client "${client.id ?? '?'}" (${socket.remoteAddress}:${socket.remotePort}) sent a ${PACKET_NAMES[type] ?? `type-${type}`} packet of ${size} bytes > broker.max_packet_size ${maxPacket}; disconnected`;
      opts.onDrop?.('oversized', { client: client.id, type: PACKET_NAMES[type], bytes: size }, detail);
      limiter.warn('oversized', { client: client.id, bytes: size }, `embedded broker: ${detail}`);
    });
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
    counters: () => ({ ...c, clients: aedes.connectedClients }),
    close() {
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

function expandAcl(acl: BrokerAcl, username: string, clientId: string): ClientAcl {
  const sub = (f: string) => f.replaceAll('%u', username).replaceAll('%c', clientId);
  return { publish: acl.publish.map(sub), subscribe: acl.subscribe.map(sub) };
}

/**
 * Bound the MQTT packet size without a second stream: watch the bytes aedes reads (a `data`
 * listener next to aedes's `readable` one sees every chunk as aedes reads it, without changing
 * the flow mode) and follow packet boundaries from the fixed header (type byte + varint length).
 * A packet announced bigger than `max` destroys the socket before its body is buffered.
 */
export function guardPacketSize(socket: net.Socket, max: number, onOversized: (size: number, type: number) => void): void {
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
      const b = chunk[i++]!;
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
    const now = Date.now();
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
