/**
 * The subscription a format makes before its birth (the JSON format's own status topic, Sparkplug's
 * NCMD) against brokers that refuse it: by closing the connection (AWS IoT Core, for a topic its
 * policy does not allow) or by the SUBACK's failure code (EMQX, HiveMQ). Neither may stop the
 * uplink or be taken for a record's fault.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqtt from 'mqtt';
import pino from 'pino';
import { FirstSubscription } from '../../src/upstream/first-subscription.js';
import { Outbox } from '../../src/outbox/index.js';
import { UpstreamForwarder } from '../../src/upstream/index.js';
import { waitFor } from '../runtime/helpers.js';
import { FAST_RECONNECT, outboxConfig, raw, tempDir, upstreamConfig } from './helpers.js';
import { StrictBroker } from './strict-broker.js';

/** A pino logger whose warnings are kept (their messages). */
function warnings() {
  const lines: string[] = [];
  const log = pino({ level: 'warn' }, { write: (s: string) => void lines.push((JSON.parse(s) as { msg: string }).msg) });
  return { log, lines };
}

async function brokerFor(t: { after(fn: () => Promise<void>): void }, opts: ConstructorParameters<typeof StrictBroker>[0]) {
  const broker = new StrictBroker(opts);
  await broker.start();
  t.after(() => broker.stop());
  return broker;
}

/** A Sparkplug B node (outbox + forwarder) on `url` with 50 records buffered, logging warnings. */
function sparkplugNode(t: { after(fn: () => Promise<void>): void }, url: string) {
  const tmp = tempDir();
  const { log, lines } = warnings();
  const outbox = Outbox.open({ config: outboxConfig(), dataDir: tmp.dir, gatewayId: 'van-17', log });
  const fwd = new UpstreamForwarder({
    config: upstreamConfig(url, { ...FAST_RECONNECT, format: 'sparkplug_b', sparkplug: { group_id: 'fleet', device_idle: 0 } }),
    outbox,
    gatewayId: 'van-17',
    log,
  });
  t.after(async () => {
    await fwd.stop();
    outbox.close();
    tmp.cleanup();
  });
  for (let i = 1; i <= 50; i++) outbox.put(raw('dev1/x', i));
  outbox.flush();
  return { outbox, fwd, lines };
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
  assert.equal(n.fwd.stats().refusedSubscription, 'spBv1.0/fleet/NCMD/van-17', 'status and /metrics say so');
  const t0 = types(broker);
  assert.deepEqual(t0.slice(0, 2), ['NBIRTH', 'DBIRTH'], 'nothing went before the subscription was given up; then the birth first');
  assert.equal(t0.filter((x) => x === 'DDATA').length, 50);
  assert.equal(n.lines.filter((l) => l.includes('no longer subscribing')).length, 1);
  assert.match(n.lines.find((l) => l.includes('no longer subscribing'))!, /spBv1\.0\/fleet\/NCMD\/van-17.*rebirth requests from the host will not be answered.*Allow this client to subscribe/);
});

test('sparkplug: a SUBACK refusing NCMD (EMQX, HiveMQ) is a warning once, not a reason to hold the birth or close', async (t) => {
  const broker = await brokerFor(t, { refuseSubscribe: true });
  const n = sparkplugNode(t, broker.url);
  await n.fwd.start();
  await waitFor(() => n.outbox.depth() === 0, () => `the outbox drained (${n.outbox.depth()} left)`);
  assert.equal(broker.subscribeRefusals, 1);
  assert.equal(n.fwd.stats().disconnects, 0);
  assert.equal(n.fwd.stats().refusedSubscription, 'spBv1.0/fleet/NCMD/van-17');
  assert.deepEqual(types(broker).slice(0, 2), ['NBIRTH', 'DBIRTH']);
  assert.equal(n.lines.length, 1, n.lines.join('\n'));
  assert.match(n.lines[0]!, /refused the subscription to spBv1\.0\/fleet\/NCMD\/van-17.*rebirth requests/);
});

for (const protocolVersion of [4, 5] as const) {
  test(`FirstSubscription, MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}: a SUBACK's failure code ends the wait (not the timeout), is warned once, and counts as no close`, async (t) => {
    const broker = await brokerFor(t, { refuseSubscribe: true });
    const { log, lines } = warnings();
    const sub = new FirstSubscription('a/b', 1, 'nothing is lost', log, 3_600_000);
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
    assert.match(lines[0]!, /refused the subscription to a\/b \(Subscribe error: (Unspecified error|Not authorized)\), so nothing is lost/);
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
