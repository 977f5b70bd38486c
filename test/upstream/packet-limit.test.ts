import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqttPacket from 'mqtt-packet';
import { PacketLimit, publishPacketBytes, STRIKES } from '../../src/upstream/packet-limit.js';
import { waitFor } from '../runtime/helpers.js';
import { forwarderTo, raw } from './helpers.js';
import { StrictBroker, type StrictBrokerOptions } from './strict-broker.js';

const LIMIT = 2000;
const FAST_RECONNECT = { reconnect_min: 20, reconnect_max: 200, reconnect_probe: 0 };

/** Seven readings of one stream; the fourth is 5 KB, over the broker's 2,000-byte limit. */
async function scenario(t: import('node:test').TestContext, broker: StrictBrokerOptions, upstream: Record<string, unknown>) {
  const b = new StrictBroker({ maxPacket: LIMIT, ...broker });
  await b.start();
  const s = forwarderTo(b.url, { ...FAST_RECONNECT, ...upstream });
  t.after(async () => {
    await s.close();
    await b.stop();
  });
  for (let i = 1; i <= 7; i++) s.outbox.put(raw('dev1/x', i, i === 4 ? 5000 : 0));
  s.outbox.flush();
  await s.fwd.start();
  const seqs = () => new Set(b.accepted.map((m) => JSON.parse(m.payload).seq as number));
  await waitFor(() => seqs().size === 6 && s.outbox.stats().depth.messages === 1, () => `six readings upstream, one kept back (got seqs ${[...seqs()]}, ${b.oversized} connections closed on a packet too large)`);
  assert.deepEqual([...seqs()].sort((x, y) => x - y), [1, 2, 3, 5, 6, 7], 'every reading but the big one went, in spite of it');
  assert.equal(s.fwd.stats().tooLarge, 1, 'the big one is counted once');
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

test(`MQTT 3.1.1, no limit known: after ${STRIKES} connections closed with the same largest publish in flight, its size is taken as over the limit`, async (t) => {
  const { broker, s } = await scenario(t, {}, {});
  assert.equal(broker.oversized, STRIKES, 'the broker closed the connection on it three times, then never again');
  assert.equal(s.fwd.stats().maxPacketBytes, broker.oversizedBytes - 1);
});

test('MQTT 5, no limit announced: a DISCONNECT 0x95 (packet too large) teaches the limit at once', async (t) => {
  const { broker, s } = await scenario(t, { sayWhy: true }, { protocol_version: 5 });
  assert.equal(broker.oversized, 1);
  assert.equal(s.fwd.stats().maxPacketBytes, broker.oversizedBytes - 1);
});

test('batches over the limit go as halves; a record that alone is over it stays in the outbox', async (t) => {
  const b = new StrictBroker({ maxPacket: LIMIT });
  await b.start();
  const s = forwarderTo(b.url, { ...FAST_RECONNECT, max_packet_size: LIMIT, batch: { compression: 'none', max_delay: 10 } });
  t.after(async () => {
    await s.close();
    await b.stop();
  });
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

test('a learnt limit never goes below a packet the broker acknowledged: a flaky link does not stall the uplink', () => {
  const l = new PacketLimit();
  l.connected(undefined);
  l.sent(1, 5000);
  l.acked(1);
  for (let i = 0; i < STRIKES + 2; i++) {
    l.connected(undefined);
    l.sent(2, 4000);
    assert.equal(l.lost(), undefined);
  }
  assert.equal(l.max, Infinity);
  // A publish acknowledged between the losses ends the strikes against it.
  const m = new PacketLimit();
  for (let i = 0; i < STRIKES; i++) {
    m.connected(undefined);
    m.sent(7, 3000);
    if (i === 1) m.acked(7);
    m.lost();
  }
  assert.equal(m.max, Infinity);
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
    const s = forwarderTo(b.url, { ...FAST_RECONNECT, protocol_version: 5, ...(batch ? { batch } : {}) });
    t.after(async () => {
      await s.close();
      await b.stop();
    });
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
