import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqttPacket from 'mqtt-packet';
import { CloseProbe, PROBE_ACKS, QUICK_CLOSE_MS, STRIKES } from '../../src/upstream/close-probe.js';
import { PacketLimit, publishPacketBytes } from '../../src/upstream/packet-limit.js';
import { waitFor } from '../runtime/helpers.js';
import { FAST_RECONNECT, forwarderFor, raw } from './helpers.js';
import { StrictBroker, type StrictBrokerOptions } from './strict-broker.js';

const LIMIT = 2000;

/** Seven readings of one stream; the fourth is 5 KB, over the broker's 2,000-byte limit. */
async function scenario(t: import('node:test').TestContext, broker: StrictBrokerOptions, upstream: Record<string, unknown>) {
  const b = new StrictBroker({ maxPacket: LIMIT, ...broker });
  await b.start();
  const s = forwarderFor(t, b, { ...FAST_RECONNECT, ...upstream });
  for (let i = 1; i <= 7; i++) s.outbox.put(raw('dev1/x', i, i === 4 ? 5000 : 0));
  s.outbox.flush();
  await s.fwd.start();
  const seqs = () => new Set(b.accepted.map((m) => JSON.parse(m.payload).seq as number));
  await waitFor(() => seqs().size === 6 && s.outbox.stats().depth.messages === 1, () => `six readings upstream, one kept back (got seqs ${[...seqs()]}, ${b.oversized} connections closed on a packet too large)`);
  assert.deepEqual([...seqs()].sort((x, y) => x - y), [1, 2, 3, 5, 6, 7], 'every reading but the big one went, in spite of it');
  assert.equal(s.fwd.stats().tooLarge + s.fwd.stats().quarantined, 1, 'the big one is counted once');
  return { broker: b, s };
}

test('publishPacketBytes is the size mqtt-packet writes for a QoS 1 PUBLISH (MQTT 3.1.1 and 5)', () => {
  for (const protocolVersion of [4, 5] as const)
    for (const [topic, n] of [['a', 0], ['edgewise/v1/gw-1/raw/dev1/x', 100], ['é/ü', 200], ['t', 16_380], ['t', 2_097_200]] as const) {
      const packet = mqttPacket.generate({ cmd: 'publish', topic, payload: Buffer.alloc(n), qos: 1, messageId: 1, retain: false, dup: false }, { protocolVersion });
      assert.equal(publishPacketBytes(topic, n, protocolVersion), packet.length, `${topic} + ${n} bytes, MQTT ${protocolVersion}`);
    }
});

test('MQTT 5: a record over the limit the broker announces stays in the outbox; the rest go on the same connection; it goes once the limit allows', async (t) => {
  const { broker, s } = await scenario(t, { announce: true }, { protocol_version: 5 });
  assert.equal(broker.oversized, 0, 'never sent: the connection was never closed');
  assert.equal(s.fwd.stats().connects, 1);
  assert.equal(s.fwd.stats().maxPacketBytes, LIMIT);
  broker.opts.maxPacket = 100_000; // the broker's limit raised
  broker.cutConnections();
  await waitFor(() => s.outbox.stats().depth.messages === 0, 'the kept record went after the limit was raised');
  assert.equal(JSON.parse(broker.accepted.at(-1)!.payload).seq, 4);
});

test('upstream.max_packet_size: a record over it stays in the outbox and the connection is never closed (MQTT 3.1.1, nothing announced)', async (t) => {
  const { broker, s } = await scenario(t, {}, { max_packet_size: LIMIT });
  assert.equal(broker.oversized, 0);
  assert.equal(s.fwd.stats().disconnects, 0);
  assert.equal(s.fwd.stats().maxPacketBytes, LIMIT);
});

test(`MQTT 3.1.1, no limit known: after ${STRIKES} connections closed with publishes in flight, one at a time until the record is found`, async (t) => {
  const { broker, s } = await scenario(t, {}, {});
  assert.equal(broker.oversized, STRIKES + 2, 'three closes, then two with it alone in flight, then never again');
  assert.equal(s.fwd.stats().quarantined, 1);
  assert.equal(s.fwd.stats().probing, true, `still one record a publish: fewer than ${PROBE_ACKS} acknowledged in a row since (edgewise_upstream_probing 1)`);
  assert.equal(s.fwd.stats().maxPacketBytes, 0, 'no limit is made up from it');
});

test('a topic the broker refuses by closing the connection (as AWS IoT Core does for an unauthorised publish): that record is kept back, the rest go', async (t) => {
  const b = new StrictBroker({ closeOnTopic: /\/forbidden\// });
  await b.start();
  const s = forwarderFor(t, b, FAST_RECONNECT);
  for (let i = 1; i <= 30; i++) s.outbox.put(raw(i === 10 ? 'forbidden/x' : `dev${i % 3}/x`, i));
  s.outbox.flush();
  await s.fwd.start();
  await waitFor(() => s.outbox.stats().depth.messages === 1, () => `29 records acknowledged (${s.outbox.stats().depth.messages} left, ${s.fwd.stats().disconnects} connections lost)`);
  assert.equal(s.fwd.stats().quarantined, 1);
  assert.equal(b.accepted.filter((m) => m.topic.includes('forbidden')).length, 0);
  assert.equal(new Set(b.accepted.map((m) => m.payload)).size, 29);
});

test('MQTT 5, no limit announced: a DISCONNECT 0x95 (packet too large) teaches the limit at once', async (t) => {
  const { broker, s } = await scenario(t, { sayWhy: true }, { protocol_version: 5 });
  assert.equal(broker.oversized, 1);
  assert.equal(s.fwd.stats().maxPacketBytes, broker.oversizedBytes - 1);
});

test('batches over the limit go as halves; a record that alone is over it stays in the outbox', async (t) => {
  const b = new StrictBroker({ maxPacket: LIMIT });
  await b.start();
  const s = forwarderFor(t, b, { ...FAST_RECONNECT, max_packet_size: LIMIT, batch: { compression: 'none', max_delay: 10 } });
  for (let i = 1; i <= 40; i++) s.outbox.put(raw(`dev${i % 4}/x`, i, i === 21 ? 5000 : 0));
  s.outbox.flush();
  await s.fwd.start();
  await waitFor(() => s.outbox.stats().depth.messages === 1, () => `39 records acknowledged (${s.outbox.stats().depth.messages} left)`);
  const records = b.accepted.flatMap((m) => (JSON.parse(m.payload) as { records: { seq: number; stream: string }[] }).records);
  assert.equal(records.length, 39);
  assert.ok(b.accepted.length > 1 && b.accepted.length < 39, `several records a publish (${b.accepted.length} publishes)`);
  assert.equal(b.oversized, 0);
  assert.equal(s.fwd.stats().tooLarge, 1);
});

test('a limit learnt from 0x95 is never below a packet the broker acknowledged', () => {
  const l = new PacketLimit();
  l.acked(5000);
  assert.equal(l.refused(4000), undefined);
  assert.equal(l.max, Infinity);
  assert.deepEqual(l.refused(6000), { size: 6000, limit: 5999 });
  // The smallest of configured and announced applies; an announcement holds for its connection only.
  const n = new PacketLimit(8000);
  n.connected(4000);
  assert.equal(n.max, 4000);
  n.connected(undefined);
  assert.equal(n.max, 8000);
});

for (const batch of [undefined, { compression: 'gzip', max_records: 10, max_delay: 5 }] as const) {
  test(`MQTT 5: the broker's Receive Maximum bounds the publishes in flight${batch ? ' (batches)' : ''}, or a broker that holds to it (HiveMQ: 10) closes every connection`, async (t) => {
    const b = new StrictBroker({ receiveMaximum: 10 });
    await b.start();
    const s = forwarderFor(t, b, { ...FAST_RECONNECT, protocol_version: 5, ...(batch ? { batch } : {}) });
    for (let i = 1; i <= 300; i++) s.outbox.put(raw(`dev${i % 3}/x`, i));
    s.outbox.flush();
    await s.fwd.start();
    await waitFor(() => s.outbox.stats().depth.messages === 0, () => `the outbox drained (${s.outbox.stats().depth.messages} left, ${b.overReceiveMaximum} connections closed for too many unacknowledged publishes)`);
    assert.equal(b.overReceiveMaximum, 0);
    assert.equal(s.fwd.stats().disconnects, 0);
    assert.equal(s.fwd.stats().receiveMaximum, 8, '10 less the status and stats publishes');
    assert.ok(b.mostUnacked > 1 && b.mostUnacked <= 10, `publishes in flight at once: ${b.mostUnacked}`);
  });
}

test('CloseProbe: a network that drops connections costs probing, never a record', () => {
  const p = new CloseProbe();
  // Connections that lasted are no strikes, however many close with publishes in flight.
  for (let i = 0; i < STRIKES * 3; i++) assert.equal(p.lost(QUICK_CLOSE_MS, 5).kind, 'none');
  // Nor are closes with nothing in flight.
  for (let i = 0; i < STRIKES * 3; i++) assert.equal(p.lost(50, 0).kind, 'none');
  for (let i = 0; i < STRIKES - 1; i++) assert.equal(p.lost(50, 5).kind, 'none');
  assert.deepEqual(p.lost(50, 5), { kind: 'probing', closes: STRIKES });
  assert.equal(p.window, 1);
  // Drops with a different record alone in flight each time, or with none: nothing is kept back.
  for (let id = 2; id < 10; id++) {
    p.sent(id);
    assert.equal(p.lost(50, 1).kind, 'none');
    assert.equal(p.lost(50, 0).kind, 'none', 'nothing in flight');
  }
  // A record acknowledged between two drops is cleared.
  p.sent(20);
  p.lost(50, 1);
  p.sent(20);
  p.acked(20);
  p.sent(20);
  assert.equal(p.lost(50, 1).kind, 'none');
  // The same record alone at two closes in a row is the one.
  p.sent(30);
  assert.equal(p.lost(50, 1).kind, 'none');
  p.sent(30);
  assert.deepEqual(p.lost(50, 1), { kind: 'quarantine', first: 30 });
  // Enough acknowledgements in a row end the probing.
  for (let id = 100; id < 100 + PROBE_ACKS; id++) {
    p.sent(id);
    p.acked(id);
  }
  assert.equal(p.active, false);
  assert.equal(p.window, Infinity);
});
