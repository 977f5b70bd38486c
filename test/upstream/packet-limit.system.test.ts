/**
 * A record over a real Mosquitto's `max_packet_size` (Mosquitto closes the connection on it) must
 * not stop the uplink. Needs the `mosquitto` binary: run with `npm run test:system`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { Mosquitto } from '../helpers/mosquitto.js';
import { freePort } from '../runtime/helpers.js';
import { forwarderTo, raw, tempDir, waitFor } from './helpers.js';

for (const protocol_version of [4, 5] as const) {
  test(`Mosquitto with max_packet_size 2000, MQTT ${protocol_version === 5 ? '5 (the limit announced)' : '3.1.1 (no limit known: learnt)'}: one 5 KB record stays in the outbox, the other 99 arrive`, { timeout: 60_000 }, async (t) => {
    const tmp = tempDir('edgewise-mosq-limit-');
    const port = await freePort();
    const mosq = new Mosquitto(tmp.dir, port, ['max_packet_size 2000']);
    await mosq.start();
    const seqs = new Set<number>();
    const collector = mqtt.connect(mosq.url, { clientId: 'collector', protocolVersion: 5, reconnectPeriod: 100 });
    collector.on('message', (topic, payload) => {
      if (!topic.endsWith('/status')) seqs.add((JSON.parse(payload.toString()) as { seq: number }).seq);
    });
    await new Promise<void>((resolve, reject) => collector.once('connect', () => collector.subscribe('edgewise/v1/#', { qos: 1 }, (err) => (err ? reject(err) : resolve()))));
    const s = forwarderTo(mosq.url, { protocol_version, reconnect_min: 20, reconnect_max: 200, reconnect_probe: 0 });
    t.after(async () => {
      await s.close();
      collector.end(true);
      await mosq.stop();
      tmp.cleanup();
    });
    for (let i = 1; i <= 100; i++) s.outbox.put(raw('dev1/x', i, i === 30 ? 5000 : 0));
    s.outbox.flush();
    await s.fwd.start();
    await waitFor(
      () => seqs.size === 99 && s.outbox.stats().depth.messages === 1,
      () => `99 records at the collector (${seqs.size}), one left in the outbox (${s.outbox.stats().depth.messages}; ${s.fwd.stats().disconnects} connections lost)`,
    );
    assert.ok(!seqs.has(30), 'the big record is the one left');
    assert.equal(s.fwd.stats().tooLarge + s.fwd.stats().quarantined, 1);
    assert.equal(s.fwd.stats().disconnects, protocol_version === 5 ? 0 : 5, 'MQTT 5: never sent; 3.1.1: Mosquitto closed three connections, then two with it alone in flight, then never again');
  });
}

test('Mosquitto with max_inflight_messages 10, MQTT 5: the forwarder reads the Receive Maximum it announces and drains 2,000 records within it', { timeout: 60_000 }, async (t) => {
  const tmp = tempDir('edgewise-mosq-rm-');
  const port = await freePort();
  const mosq = new Mosquitto(tmp.dir, port, ['max_inflight_messages 10']);
  await mosq.start();
  const s = forwarderTo(mosq.url, { protocol_version: 5 });
  t.after(async () => {
    await s.close();
    await mosq.stop();
    tmp.cleanup();
  });
  for (let i = 1; i <= 2000; i++) s.outbox.put(raw(`dev${i % 5}/x`, i));
  s.outbox.flush();
  await s.fwd.start();
  await waitFor(() => s.outbox.stats().depth.messages === 0, () => `the outbox drained (${s.outbox.stats().depth.messages} left)`);
  assert.equal(s.fwd.stats().receiveMaximum, 8, 'the announced 10 less the status and stats publishes');
  assert.equal(s.fwd.stats().disconnects, 0);
});
