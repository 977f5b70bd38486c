import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import fc from 'fast-check';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import mqttPacket, { type Packet } from 'mqtt-packet';
import type { Client } from 'aedes';
import { startEmbeddedBroker, type EmbeddedBroker, type EmbeddedBrokerOptions } from '../../drivers/mqtt/index.js';
import { frameClientPackets } from '../../drivers/mqtt/lean-publish.js';
import { runs, tried1 } from '../fuzz/runs.js';
import { waitFor } from './helpers.js';

/**
 * The embedded broker's short PUBLISH path (drivers/mqtt/lean-publish.ts) against what it replaces:
 * mqtt-packet's parser is the oracle for framing, aedes's own path for what subscribers see.
 */

const cleanups: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** What a parser gave aedes: the packets (fields aedes reads) and whether it reported an error. */
interface Seen {
  packets: string[];
  error: boolean;
}

const describe = (p: Packet): string => {
  const q = p as Packet & { topic?: string; payload?: Buffer; qos?: number; retain?: boolean; dup?: boolean; messageId?: number; length?: number };
  if (p.cmd !== 'publish') return JSON.stringify({ cmd: p.cmd, messageId: q.messageId });
  return JSON.stringify({ cmd: p.cmd, topic: q.topic, payload: q.payload!.toString('hex'), qos: q.qos, retain: q.retain, dup: q.dup, messageId: q.qos! > 0 ? q.messageId : undefined, length: q.length });
};

/** mqtt-packet alone, fed the whole stream: the oracle. Packets after its first error are not compared. */
function oracle(bytes: Buffer): Seen {
  const parser = mqttPacket.parser();
  const seen: Seen = { packets: [], error: false };
  parser.on('packet', (p: Packet) => void (seen.error || seen.packets.push(describe(p))));
  parser.on('error', () => void (seen.error = true));
  parser.parse(bytes);
  return seen;
}

/** The lean framer around a real mqtt-packet parser, fed `chunks` one by one as aedes would. */
function lean(chunks: Buffer[], maxPacket = 1 << 20): Seen & { oversized?: number } {
  const parser = mqttPacket.parser();
  const seen: Seen & { oversized?: number } = { packets: [], error: false };
  parser.on('packet', (p: Packet) => void seen.packets.push(describe(p)));
  parser.on('error', () => void (seen.error = true));
  const socket = Object.assign(new EventEmitter(), { destroy: () => undefined });
  frameClientPackets({ _parser: parser } as unknown as Client, socket as never, maxPacket, (size) => void (seen.oversized = size));
  for (const c of chunks) parser.parse(c);
  return seen;
}

const topicArb = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ minLength: 120, maxLength: 300 }), fc.constantFrom('sensors/dev1/temp', 'a/b', 'ü/€/𝄞'));
const payloadArb = fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 100, maxLength: 20_000 }));
const packetArb: fc.Arbitrary<Packet> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ topic: topicArb, payload: payloadArb, qos: fc.constantFrom(0, 1, 2) as fc.Arbitrary<0 | 1 | 2>, retain: fc.boolean(), dup: fc.boolean(), messageId: fc.integer({ min: 1, max: 65535 }) }).map((p) => ({ cmd: 'publish' as const, ...p, payload: Buffer.from(p.payload) })) },
  { weight: 1, arbitrary: fc.constant({ cmd: 'pingreq' as const }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 65535 }).map((messageId) => ({ cmd: 'puback' as const, messageId })) },
  { weight: 1, arbitrary: fc.record({ messageId: fc.integer({ min: 1, max: 65535 }), topic: fc.string({ minLength: 1, maxLength: 20 }) }).map((s) => ({ cmd: 'subscribe' as const, messageId: s.messageId, subscriptions: [{ topic: s.topic, qos: 1 as const }] })) },
);

/** Cut `bytes` at the given fractions (sorted, deduplicated). */
function cut(bytes: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((f) => Math.floor(f * bytes.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    if (p > from) out.push(bytes.subarray(from, p));
    from = Math.max(from, p);
  }
  if (from < bytes.length) out.push(bytes.subarray(from));
  return out;
}

test('framing: any stream of packets, cut anywhere, gives aedes exactly what mqtt-packet gives it', () => {
  fc.assert(
    fc.property(fc.array(packetArb, { minLength: 1, maxLength: 12 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 30 }), (packets, at) => {
      tried1();
      const bytes = Buffer.concat(packets.map((p) => mqttPacket.generate(p)));
      const want = oracle(bytes);
      const got = lean(cut(bytes, at));
      assert.deepEqual(got.packets, want.packets);
      assert.equal(got.error, want.error);
    }),
    { numRuns: runs(300) },
  );
});

test('framing: every cut of a stream, one byte at a time included', () => {
  const packets: Packet[] = [
    { cmd: 'publish', topic: 'sensors/dev1/temp', payload: Buffer.from('{"value":21.5}'), qos: 1, messageId: 7, retain: false, dup: false },
    { cmd: 'pingreq' },
    { cmd: 'publish', topic: 'x'.repeat(200), payload: Buffer.alloc(300, 1), qos: 0, retain: true, dup: false },
    { cmd: 'publish', topic: 'e', payload: Buffer.alloc(0), qos: 2, messageId: 65535, retain: false, dup: true },
  ];
  const bytes = Buffer.concat(packets.map((p) => mqttPacket.generate(p)));
  const want = oracle(bytes);
  assert.equal(want.packets.length, 4);
  assert.deepEqual(lean([...bytes].map((b) => Buffer.from([b]))).packets, want.packets);
  for (let i = 1; i < bytes.length; i++) assert.deepEqual(lean([bytes.subarray(0, i), bytes.subarray(i)]).packets, want.packets, `cut at ${i}`);
});

test('framing: malformed input is an error, as with mqtt-packet; what came before it is delivered', () => {
  const good = mqttPacket.generate({ cmd: 'publish', topic: 'a/b', payload: Buffer.from('1'), qos: 0, retain: false, dup: false });
  const bad: Array<[string, Buffer]> = [
    ['QoS 3', Buffer.from([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01])],
    ['topic longer than the packet', Buffer.from([0x30, 0x04, 0x00, 0x09, 0x61, 0x62])],
    ['no room for the topic length', Buffer.from([0x30, 0x01, 0x00])],
    ['a length of five bytes', Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])],
  ];
  for (const [why, b] of bad) {
    const bytes = Buffer.concat([good, b, good]);
    const want = oracle(bytes);
    const got = lean([bytes]);
    assert.ok(want.error, `${why}: mqtt-packet reports it`);
    assert.ok(got.error, `${why}: an error`);
    assert.deepEqual(got.packets, want.packets.slice(0, 1), why);
  }
  // Stricter than mqtt-packet, which reads a QoS 1 message id past the end of its packet (from the
  // next one's bytes) and carries on: here that is an error too.
  const noId = Buffer.concat([good, Buffer.from([0x32, 0x04, 0x00, 0x01, 0x61, 0x00]), good]);
  assert.equal(oracle(noId).error, false);
  const got = lean([noId]);
  assert.ok(got.error);
  assert.equal(got.packets.length, 1);
});

test('framing: bytes handed in again from inside a packet\'s handling (aedes reads the socket there) keep their order', () => {
  const bytes = Buffer.concat([1, 2, 3, 4].map((i) => mqttPacket.generate({ cmd: 'publish', topic: `t/${i}`, payload: Buffer.from(String(i)), qos: 0, retain: false, dup: false })));
  const parser = mqttPacket.parser();
  const topics: string[] = [];
  const later = [bytes.subarray(30), bytes.subarray(20, 30)].reverse();
  parser.on('packet', (p: Packet) => {
    topics.push((p as { topic: string }).topic);
    const next = later.shift();
    if (next) parser.parse(next);
  });
  const socket = Object.assign(new EventEmitter(), { destroy: () => undefined });
  frameClientPackets({ _parser: parser } as unknown as Client, socket as never, 1 << 20, () => undefined);
  parser.parse(bytes.subarray(0, 20));
  assert.deepEqual(topics, ['t/1', 't/2', 't/3', 't/4']);
});

test('framing: a header announcing more than max_packet_size stops the client before its body', () => {
  const big = mqttPacket.generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(5000), qos: 0, retain: false, dup: false });
  const got = lean([big.subarray(0, 4)], 4096);
  assert.equal(got.oversized, big.length);
  assert.deepEqual(got.packets, []);
});

async function broker(opts: EmbeddedBrokerOptions = {}): Promise<{ b: EmbeddedBroker; got: string[]; aedesPublishes: () => number }> {
  const got: string[] = [];
  const b = await startEmbeddedBroker({ port: 0, allowAnonymous: true, onPublish: (t, p) => void got.push(`${t}=${p.toString()}`), ...opts });
  cleanups.push(() => b.close());
  let n = 0;
  b.aedes.on('publish', (p) => void (p.topic.startsWith('$') || n++));
  return { b, got, aedesPublishes: () => n };
}

function connect(url: string, opts: IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { reconnectPeriod: 0, protocolVersion: 4, ...opts });
    c.once('connect', () => resolve(c));
    c.once('error', reject);
    cleanups.push(() => new Promise<void>((r) => c.end(true, {}, () => r())));
  });
}

const publish = (c: MqttClient, topic: string, payload: string, opts: { qos?: 0 | 1; retain?: boolean } = {}) =>
  new Promise<void>((resolve, reject) => c.publish(topic, payload, { qos: opts.qos ?? 1, retain: opts.retain ?? false }, (e) => (e ? reject(e) : resolve())));

test('subscribers see what they saw before: live, retained, and queued for a persistent session while it is away', async () => {
  for (const leanPublish of [true, false]) {
    const { b, got, aedesPublishes } = await broker({ leanPublish });
    const dev = await connect(b.url, { clientId: 'dev1' });
    await publish(dev, 'sensors/dev1/t', '1');
    // Nobody subscribes: with the short path the PUBLISH never enters aedes's publish series.
    assert.equal(aedesPublishes(), leanPublish ? 0 : 1, `leanPublish ${leanPublish}`);

    const sub = await connect(b.url, { clientId: 'watcher', clean: false });
    const seen: string[] = [];
    sub.on('message', (t, p) => void seen.push(`${t}=${p.toString()}`));
    await sub.subscribeAsync('sensors/+/t', { qos: 1 });
    await publish(dev, 'sensors/dev1/t', '2');
    await publish(dev, 'sensors/dev1/other', '3'); // matches no filter
    await publish(dev, 'sensors/dev1/t', 'r', { retain: true });
    await waitFor(() => seen.length === 2, 'the subscriber gets the live messages');
    assert.deepEqual(seen, ['sensors/dev1/t=2', 'sensors/dev1/t=r']);

    // Away with a persistent session: QoS 1 is queued for it.
    await new Promise<void>((r) => sub.end(false, {}, () => r()));
    await publish(dev, 'sensors/dev1/t', '4');
    const back = await connect(b.url, { clientId: 'watcher', clean: false });
    const queued: string[] = [];
    back.on('message', (t, p) => void queued.push(`${t}=${p.toString()}`));
    await waitFor(() => queued.length === 1, 'the queued message after reconnecting');
    assert.deepEqual(queued, ['sensors/dev1/t=4']);

    // A late subscriber gets the retained message.
    const late = await connect(b.url, { clientId: 'late' });
    const retained: string[] = [];
    late.on('message', (t, p) => void retained.push(`${t}=${p.toString()}`));
    await late.subscribeAsync('sensors/dev1/t', { qos: 1 });
    await waitFor(() => retained.length === 1, 'the retained message');
    assert.deepEqual(retained, ['sensors/dev1/t=r']);

    // Everyone unsubscribes (the persistent session explicitly): the short path again.
    await back.unsubscribeAsync('sensors/+/t');
    await late.unsubscribeAsync('sensors/dev1/t');
    const before = aedesPublishes();
    await publish(dev, 'sensors/dev1/t', '5');
    assert.equal(aedesPublishes() - before, leanPublish ? 0 : 1);
    assert.deepEqual(got, ['sensors/dev1/t=1', 'sensors/dev1/t=2', 'sensors/dev1/other=3', 'sensors/dev1/t=r', 'sensors/dev1/t=4', 'sensors/dev1/t=5']);
  }
});

test('a QoS 0 and 1 flood over one raw socket, in odd-sized writes: every message taken once, in order, every PUBACK sent', async () => {
  for (const durable of [true, false]) {
    // Durable (the gateway's default): taken as it is accepted, so in the order sent. Without: aedes
    // takes a QoS 1 PUBLISH once its PUBACK is written, so each QoS keeps its own order.
    const { b, got } = await broker(durable ? { whenDurable: (done) => setImmediate(done) } : {});
    const n = 3000;
    const packets: Buffer[] = [];
    for (let i = 0; i < n; i++) packets.push(mqttPacket.generate({ cmd: 'publish', topic: `sensors/d${i % 7}/m`, payload: Buffer.from(String(i)), qos: i % 2 === 0 ? 1 : 0, messageId: (i % 65535) + 1, retain: false, dup: false }));
    const bytes = Buffer.concat(packets);
    const socket = net.connect(b.port, '127.0.0.1');
    cleanups.push(() => socket.destroy());
    const acks = mqttPacket.parser();
    let pubacks = 0;
    acks.on('packet', (p: Packet) => void (p.cmd === 'puback' && pubacks++));
    let connacked = false;
    acks.on('packet', (p: Packet) => void (p.cmd === 'connack' && (connacked = true)));
    socket.on('data', (d) => acks.parse(d));
    await new Promise((r) => socket.once('connect', r));
    socket.setNoDelay(true);
    // aedes queues at most 42 packets before its CONNACK: wait for it.
    socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'raw', keepalive: 0 }));
    await waitFor(() => connacked, 'CONNACK');
    for (let i = 0; i < bytes.length; ) {
      const step = 1 + ((i * 7919) % 977);
      socket.write(bytes.subarray(i, i + step));
      i += step;
    }
    await waitFor(() => pubacks === n / 2 && got.length === n, 'every message and PUBACK');
    const sent = Array.from({ length: n }, (_, i) => `sensors/d${i % 7}/m=${i}`);
    if (durable) assert.deepEqual(got, sent);
    else for (const q of [0, 1]) assert.deepEqual(got.filter((m) => Number(m.split('=')[1]) % 2 !== q), sent.filter((_, i) => i % 2 !== q));
  }
});

test('filters are looked up by their first level: wildcards there still match; other topics keep the short path', async () => {
  const { b, aedesPublishes } = await broker();
  const dev = await connect(b.url, { clientId: 'dev1' });
  // Devices subscribed to their own command topics: a sensor topic still skips aedes's publish series.
  const cmd = await connect(b.url, { clientId: 'dev2' });
  await cmd.subscribeAsync('cmd/dev2/#', { qos: 1 });
  await publish(dev, 'sensors/dev1/t', '1');
  assert.equal(aedesPublishes(), 0);
  for (const filter of ['+/dev1/t', '#', 'sensors/#']) {
    const sub = await connect(b.url, { clientId: `w-${filter}` });
    const seen: string[] = [];
    sub.on('message', (t, p) => void seen.push(`${t}=${p.toString()}`));
    await sub.subscribeAsync(filter, { qos: 1 });
    await publish(dev, 'sensors/dev1/t', filter);
    await waitFor(() => seen.length === 1, `the subscriber of ${filter}`);
    assert.deepEqual(seen, [`sensors/dev1/t=${filter}`]);
    await sub.unsubscribeAsync(filter);
  }
});
