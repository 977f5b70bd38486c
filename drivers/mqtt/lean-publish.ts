import type { Aedes, Client, PublishPacket } from 'aedes';
import type net from 'node:net';
import { topicMatches } from './topic.js';

/**
 * The embedded broker's short path for what devices send most: PUBLISH. aedes's own path parses
 * every packet through mqtt-packet's buffer list, then routes each PUBLISH through its publish
 * series (retained store, mqemitter, hooks), though on a gateway nobody usually subscribes to
 * sensor topics. Here PUBLISH packets are framed and decoded straight from the socket's bytes
 * (the payload a view of them, no copy), and a PUBLISH nobody subscribes to ends at the gateway.
 * aedes still does the protocol: CONNECT, ACLs (authorizePublish), PUBACK, keepalive, and every
 * other packet, whole, through its parser. docs/benchmarks.md has what it saves.
 */

/** An MQTT 3.1.1 PUBLISH as mqtt-packet gives it to aedes (one shape, so V8 keeps one map). */
class LeanPublish {
  readonly cmd = 'publish';
  messageId: number | undefined;
  constructor(
    readonly retain: boolean,
    readonly qos: 0 | 1 | 2,
    readonly dup: boolean,
    readonly length: number,
    readonly topic: string,
    readonly payload: Buffer,
  ) {}
}

type AedesPublish = (packet: PublishPacket, client?: Client | null | ((err?: Error) => void), done?: (err?: Error) => void) => void;

/** aedes's per-client parser, as aedes's client uses it (lib/client.js). */
interface ClientParser {
  parse(buf: Buffer): number;
  emit(event: 'packet', packet: object): boolean;
  emit(event: 'error', err: Error): boolean;
}

/**
 * Frame this client's packets ourselves: PUBLISH decoded here, anything else handed whole to
 * aedes's parser. A packet whose fixed header announces more than `maxPacket` bytes destroys the
 * socket before its body is buffered (`onOversized` says so).
 */
export function frameClientPackets(client: Client, socket: net.Socket, maxPacket: number, onOversized: (size: number, type: number) => void): void {
  const parser = (client as unknown as { _parser: ClientParser })._parser;
  const parseWhole = parser.parse.bind(parser);
  /** Bytes of a packet not complete yet, and how many it needs in all (0: its header is not complete either). */
  let parts: Buffer[] = [];
  let have = 0;
  let need = 0;
  let busy = false;
  let dead = false;
  const fail = (why: string): false => {
    dead = true;
    parser.emit('error', new Error(why));
    return false;
  };

  /** Handle every whole packet of `buf`; return the bytes of an incomplete one at its end. */
  const frame = (buf: Buffer): Buffer | undefined => {
    let i = 0;
    const n = buf.length;
    while (i < n) {
      if (n - i < 2) return buf.subarray(i);
      const first = buf[i]!;
      let len = 0;
      let mult = 1;
      let h = i + 1;
      for (;;) {
        if (h >= n) return buf.subarray(i);
        const b = buf[h++]!;
        len += (b & 0x7f) * mult;
        if ((b & 0x80) === 0) break;
        mult *= 128;
        if (h - i > 4) {
          fail('Invalid variable byte integer');
          return undefined;
        }
      }
      const total = h - i + len;
      if (total > maxPacket) {
        dead = true;
        onOversized(total, first >> 4);
        socket.destroy();
        return undefined;
      }
      if (n - i < total) {
        need = total;
        return buf.subarray(i);
      }
      const end = i + total;
      if (first >> 4 === 3) {
        if (!publish(buf, first, h, end, len)) return undefined;
      } else {
        parseWhole(buf.subarray(i, end));
      }
      if (dead) return undefined;
      i = end;
    }
    return undefined;
  };

  const publish = (buf: Buffer, first: number, p: number, end: number, len: number): boolean => {
    const qos = (first >> 1) & 3;
    if (qos === 3) return fail('Packet must not have both QoS bits set to 1');
    if (p + 2 > end) return fail('Cannot parse topic');
    const topicEnd = p + 2 + buf.readUInt16BE(p);
    if (topicEnd > end) return fail('Cannot parse topic');
    const topic = buf.toString('utf8', p + 2, topicEnd);
    p = topicEnd;
    let messageId: number | undefined;
    if (qos > 0) {
      if (p + 2 > end) return fail('Cannot parse messageId');
      messageId = buf.readUInt16BE(p);
      p += 2;
    }
    const packet = new LeanPublish((first & 1) !== 0, qos as 0 | 1 | 2, (first & 8) !== 0, len, topic, buf.subarray(p, end));
    packet.messageId = messageId;
    parser.emit('packet', packet);
    return true;
  };

  const queued: Buffer[] = [];
  parser.parse = (chunk: Buffer): number => {
    if (dead) return 0;
    // aedes reads the socket again from inside a packet's handling: keep the order of the bytes.
    if (busy) {
      queued.push(chunk);
      return 0;
    }
    busy = true;
    try {
      let next: Buffer | undefined = chunk;
      while (next && !dead) {
        let buf: Buffer | undefined;
        if (have === 0) buf = next;
        else {
          parts.push(next);
          have += next.length;
          // A packet spread over chunks is put together once, when it is all there.
          if (have >= need) {
            buf = parts.length === 1 ? parts[0] : Buffer.concat(parts, have);
            parts = [];
            have = 0;
          }
        }
        if (buf) {
          need = 0;
          const rest = frame(buf);
          if (rest && !dead) {
            parts = [rest];
            have = rest.length;
          }
        }
        next = queued.shift();
      }
    } finally {
      busy = false;
    }
    return have;
  };
}

/**
 * Skip aedes's publish series for a client's PUBLISH that no subscription can match and that is
 * not retained: `take` is then all that happens to it. Subscriptions are followed from aedes's
 * `subscribe`/`unsubscribe` events; a client with a persistent session keeps its filters after it
 * disconnects (aedes queues QoS 1/2 for it while it is away).
 */
export function skipUnsubscribedPublishes(aedes: Aedes, take: (packet: PublishPacket, client: Client) => void): void {
  const byClient = new Map<string, Set<string>>();
  /**
   * Filter → clients that hold it, by the filter's first level (`+` and `#` under their own), so
   * that a publish is matched only against filters that could match it: a thousand devices each
   * subscribed to its own `cmd/<id>/#` cost a sensor topic one map lookup, not a thousand matches.
   */
  const byFirst = new Map<string, Map<string, number>>();
  const firstLevel = (t: string) => {
    const i = t.indexOf('/');
    return i < 0 ? t : t.slice(0, i);
  };
  const add = (client: Client, filter: string) => {
    let mine = byClient.get(client.id);
    if (!mine) byClient.set(client.id, (mine = new Set()));
    if (mine.has(filter)) return;
    mine.add(filter);
    const first = firstLevel(filter);
    let filters = byFirst.get(first);
    if (!filters) byFirst.set(first, (filters = new Map()));
    filters.set(filter, (filters.get(filter) ?? 0) + 1);
  };
  const remove = (clientId: string, filter: string) => {
    const mine = byClient.get(clientId);
    if (!mine?.delete(filter)) return;
    if (mine.size === 0) byClient.delete(clientId);
    const first = firstLevel(filter);
    const filters = byFirst.get(first);
    if (!filters) return;
    const n = (filters.get(filter) ?? 1) - 1;
    if (n > 0) filters.set(filter, n);
    else if (filters.delete(filter) && filters.size === 0) byFirst.delete(first);
  };
  aedes.on('subscribe', (subs, client) => {
    for (const s of subs) if ((s.qos as number) !== 128) add(client, s.topic); // 128: refused (SUBACK failure)
  });
  aedes.on('unsubscribe', (topics, client) => {
    for (const t of topics) remove(client.id, t);
  });
  aedes.on('clientDisconnect', (client) => {
    if (!client.clean) return;
    for (const f of [...(byClient.get(client.id) ?? [])]) remove(client.id, f);
  });
  const matchesIn = (filters: Map<string, number> | undefined, topic: string): boolean => {
    if (filters) for (const f of filters.keys()) if (topicMatches(f, topic)) return true;
    return false;
  };
  const subscribed = (topic: string): boolean =>
    byFirst.size > 0 && (matchesIn(byFirst.get(firstLevel(topic)), topic) || matchesIn(byFirst.get('+'), topic) || matchesIn(byFirst.get('#'), topic));
  // aedes's handlers call publish(packet, client, done); its typings know only (packet, done).
  const broker = aedes as unknown as { publish: AedesPublish };
  const publish = broker.publish.bind(aedes);
  broker.publish = (packet, client, done) => {
    if (client && typeof client !== 'function' && !packet.retain && packet.topic.charCodeAt(0) !== 36 /* $ */ && !subscribed(packet.topic)) {
      take(packet, client);
      done?.();
      return;
    }
    publish(packet, client, done);
  };
}
