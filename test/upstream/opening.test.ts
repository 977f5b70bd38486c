/**
 * The steps a format takes as a connection opens (the JSON format's subscription to its own status
 * topic and its status birth, Sparkplug's NCMD subscription) against brokers that refuse them: by
 * closing the connection (AWS IoT Core, for a topic its policy does not allow) or by a SUBACK or
 * PUBACK failure code (EMQX, HiveMQ; Mosquitto for a publish its ACL denies). None may stop the
 * uplink or be taken for a record's fault.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { OpeningStep, publish, subscribe } from '../../src/upstream/opening.js';
import { waitFor } from '../runtime/helpers.js';
import { FAST_RECONNECT, forwarderFor, forwarderTo, raw, warnings } from './helpers.js';
import { StrictBroker } from './strict-broker.js';

async function brokerFor(t: { after(fn: () => Promise<void>): void }, opts: ConstructorParameters<typeof StrictBroker>[0]) {
  const broker = new StrictBroker(opts);
  await broker.start();
  t.after(() => broker.stop());
  return broker;
}

/** A Sparkplug B node (outbox + forwarder) on `url` with 50 records buffered, logging warnings. */
function sparkplugNode(t: { after(fn: () => Promise<void>): void }, url: string) {
  const { log, lines } = warnings();
  const n = forwarderTo(url, { ...FAST_RECONNECT, format: 'sparkplug_b', sparkplug: { group_id: 'fleet', device_idle: 0 } }, 'van-17', log);
  t.after(() => n.close());
  for (let i = 1; i <= 50; i++) n.outbox.put(raw('dev1/x', i));
  n.outbox.flush();
  return { ...n, lines };
}

const types = (broker: StrictBroker) => broker.accepted.map((m) => m.topic.split('/')[2]);

test('sparkplug: a broker that closes the connection on the NCMD subscription (AWS IoT Core, a policy without it): given up after two closes, then NBIRTH and every record; nothing kept back', async (t) => {
  const broker = await brokerFor(t, { closeOnSubscribe: true });
  const n = sparkplugNode(t, broker.url);
  await n.fwd.start();
  await waitFor(() => n.outbox.depth() === 0, () => `the outbox drained (${n.outbox.depth()} left, ${broker.subscribeCloses} connections closed on the subscription, ${n.fwd.stats().quarantined} kept back)`);
  assert.equal(broker.subscribeCloses, 2);
  assert.equal(n.fwd.stats().quarantined, 0);
  assert.equal(n.fwd.stats().disconnects, 2);
  assert.deepEqual(n.fwd.stats().refused, ['subscribe spBv1.0/fleet/NCMD/van-17'], 'status and /metrics say so');
  const t0 = types(broker);
  assert.deepEqual(t0.slice(0, 2), ['NBIRTH', 'DBIRTH'], 'nothing went before the subscription was given up; then the birth first');
  assert.equal(t0.filter((x) => x === 'DDATA').length, 50);
  assert.equal(n.lines.filter((l) => l.includes('no longer taking it')).length, 1);
  assert.match(n.lines.find((l) => l.includes('no longer taking it'))!, /"subscribe spBv1\.0\/fleet\/NCMD\/van-17".*rebirth requests from the host will not be answered\. Allow it/);
});

test('sparkplug: a SUBACK refusing NCMD (EMQX, HiveMQ) is a warning once, not a reason to hold the birth or close', async (t) => {
  const broker = await brokerFor(t, { refuseSubscribe: true });
  const n = sparkplugNode(t, broker.url);
  await n.fwd.start();
  await waitFor(() => n.outbox.depth() === 0, () => `the outbox drained (${n.outbox.depth()} left)`);
  assert.equal(broker.subscribeRefusals, 1);
  assert.equal(n.fwd.stats().disconnects, 0);
  assert.deepEqual(n.fwd.stats().refused, ['subscribe spBv1.0/fleet/NCMD/van-17']);
  assert.deepEqual(types(broker).slice(0, 2), ['NBIRTH', 'DBIRTH']);
  assert.equal(n.lines.length, 1, n.lines.join('\n'));
  assert.match(n.lines[0]!, /refused "subscribe spBv1\.0\/fleet\/NCMD\/van-17".*rebirth requests/);
});

for (const protocolVersion of [4, 5] as const) {
  test(`OpeningStep (a subscription), MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}: a SUBACK's failure code ends the wait (not the timeout), is warned once, and counts as no close`, async (t) => {
    const broker = await brokerFor(t, { refuseSubscribe: true });
    const { log, lines } = warnings();
    const sub = new OpeningStep('subscribe a/b', subscribe('a/b', 1), 'nothing is lost', log, 3_600_000);
    t.after(() => sub.closed()); // its timer, if the SUBACK did not end the wait
    for (let i = 0; i < 2; i++) {
      const client = mqtt.connect(broker.url, { protocolVersion, reconnectPeriod: 0 });
      t.after(() => void client.end(true));
      await new Promise<void>((resolve) => client.once('connect', () => resolve()));
      let then = false;
      sub.open(client, () => (then = true));
      await waitFor(() => then, 'the SUBACK ended the wait', 5000);
      client.end(true);
      sub.closed();
    }
    assert.equal(broker.subscribeRefusals, 2);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /refused "subscribe a\/b" \(Subscribe error: (Unspecified error|Not authorized)\), so nothing is lost/);
    assert.equal(sub.givenUp, false);
    assert.equal(sub.refused, true);
    broker.opts.refuseSubscribe = false; // the ACL was changed: the next connection's SUBACK grants it
    const client = mqtt.connect(broker.url, { protocolVersion, reconnectPeriod: 0 });
    t.after(() => void client.end(true));
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    await new Promise<void>((resolve) => sub.open(client, resolve));
    assert.equal(sub.refused, false);
  });
}

test('JSON format: a broker that closes the connection on the status birth (an AWS IoT policy without the status topic): given up after two closes, then every record; none taken for the cause', async (t) => {
  // The close comes 50 ms after the birth: rows sent behind the birth would be in flight then.
  const broker = await brokerFor(t, { closeOnTopic: /\/status$/, closeOnTopicAfterMs: 50 });
  const s = forwarderFor(t, broker, FAST_RECONNECT);
  for (let i = 1; i <= 20; i++) s.outbox.put(raw('dev1/x', i));
  s.outbox.flush();
  await s.fwd.start();
  await waitFor(() => s.outbox.depth() === 0, () => `the outbox drained (${s.outbox.depth()} left, ${s.fwd.stats().disconnects} connections closed, ${s.fwd.stats().quarantined} kept back)`);
  assert.equal(s.fwd.stats().quarantined, 0, 'before: all 20 kept back until restart, none delivered (102 connections in 15 s)');
  assert.equal(s.fwd.stats().disconnects, 2);
  assert.deepEqual(s.fwd.stats().refused, ['publish edgewise/v1/gw-1/status']);
  assert.equal(new Set(broker.accepted.map((m) => m.payload)).size, 20);
  await s.fwd.stop();
  assert.equal(broker.statuses.length, 0, 'no goodbye either: it would be refused too');
});

test('OpeningStep (a QoS 1 publish), MQTT 5: a PUBACK failure code ends the wait (not the timeout) and is warned once; the status birth refused so lets the rows go', async (t) => {
  const broker = await brokerFor(t, { refuseTopic: /\/status$/ });
  const { log, lines } = warnings();
  const step = new OpeningStep('publish gw/status', publish('gw/status', () => '{"state":"online"}', () => true), 'nothing is lost', log, 3_600_000);
  t.after(() => step.closed());
  const client = mqtt.connect(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
  t.after(() => void client.end(true));
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  let then = false;
  step.open(client, () => (then = true));
  await waitFor(() => then, 'the PUBACK ended the wait', 5000);
  assert.equal(step.refused, true);
  assert.match(lines.join('\n'), /refused "publish gw\/status" \(Publish error: Not authorized\)/);

  const s = forwarderFor(t, broker, { ...FAST_RECONNECT, protocol_version: 5 });
  s.outbox.put(raw('dev1/x', 1));
  s.outbox.flush();
  await s.fwd.start();
  await waitFor(() => s.outbox.depth() === 0, 'the row went after the refused birth');
  assert.deepEqual(s.fwd.stats().refused, ['publish edgewise/v1/gw-1/status']);
  assert.equal(s.fwd.stats().disconnects, 0);
});
