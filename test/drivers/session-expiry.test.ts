/**
 * The embedded broker (real aedes, real mqtt.js clients on loopback) ends the persistent session of
 * a client that stays away longer than `session_expiry`. Until 2026-12-05 it kept such a session for
 * as long as the gateway ran: a client id used once held its subscriptions and a share of
 * `max_queued_bytes` for good, and a real subscriber away for a while lost messages to it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqtt from 'mqtt';
import type { EmbeddedBrokerOptions } from '../../drivers/mqtt/index.js';
import { mqttSchemas } from '../../drivers/mqtt/config.js';
import { schemaKit } from '../../src/config/schema-kit.js';
import { brokerWithDevice, waitFor } from './helpers.js';

const TOPIC = 'sensors/pump-1/temp';
const PAYLOAD = JSON.stringify({ value: 20.5, ts: 1764900000000 });
const SIZE = TOPIC.length + PAYLOAD.length;

async function broker(t: { after: (fn: () => Promise<void>) => void }, opts: EmbeddedBrokerOptions) {
  const { b, dev, clients } = await brokerWithDevice(t, opts);
  const publish = (n: number) => Promise.all(Array.from({ length: n }, () => dev.publishAsync(TOPIC, PAYLOAD, { qos: 1 })));
  const connect = async (clientId: string) => {
    const c = await mqtt.connectAsync(b.url, { clientId, clean: false, reconnectPeriod: 0 });
    clients.push(c);
    return c;
  };
  /** Subscribe with a persistent session and go away. */
  const away = async (clientId: string) => {
    const c = await connect(clientId);
    await c.subscribeAsync('sensors/#', { qos: 1 });
    await c.endAsync();
  };
  /** Come back with a persistent session: whether the broker had one for it, and the messages it gets so far. */
  const back = async (clientId: string) => {
    const c = mqtt.connect(b.url, { clientId, clean: false, reconnectPeriod: 0 });
    clients.push(c);
    let got = 0;
    c.on('message', () => got++);
    const connack = await new Promise<{ sessionPresent: boolean }>((r) => c.once('connect', r));
    return { c, sessionPresent: connack.sessionPresent, got: () => got };
  };
  return { b, publish, connect, away, back };
}

test('a client that stays away longer than session_expiry loses its session: subscriptions and queue; it comes back to a new one', async (t) => {
  const { b, publish, away, back } = await broker(t, { sessionExpiry: 150 });
  await away('phone-app-8f3a');
  await publish(10);
  assert.equal(b.counters().queued_bytes, 10 * SIZE);
  assert.equal(b.counters().sessions_away, 1);
  await waitFor(() => b.counters().sessions_expired === 1, 'the session ended');
  assert.equal(b.counters().queued_bytes, 0, 'its queue discarded');
  assert.equal(b.counters().sessions_away, 0);
  // no subscription left: what is published now is queued for nobody
  await publish(5);
  assert.equal(b.counters().queued_bytes, 0);
  const { c, sessionPresent, got } = await back('phone-app-8f3a');
  assert.equal(sessionPresent, false, 'CONNACK: no session present');
  await c.subscribeAsync('sensors/#', { qos: 1 });
  await publish(1);
  await waitFor(() => got() === 1, 'the new session works');
  await c.endAsync();
});

test('an abandoned session stops holding the shared queue bound, so a real subscriber away meanwhile loses nothing', async (t) => {
  // long enough for the dashboard's 100 messages below, on a slow machine too
  const { b, publish, away, back } = await broker(t, { sessionExpiry: 2000, maxQueuedBytes: 100 * SIZE });
  await away('boot-7f21'); // a client id used once
  await publish(100);
  assert.equal(b.counters().queued_bytes, 100 * SIZE, 'the abandoned session holds the whole bound');
  await waitFor(() => b.counters().sessions_expired === 1, 'the abandoned session ended');
  // the dashboard goes away now, for less than the expiry as far as this test goes: 100 messages for it fit
  await away('dashboard');
  await publish(100);
  assert.equal(b.counters().queue_dropped, 0);
  const { c, sessionPresent, got } = await back('dashboard');
  assert.equal(sessionPresent, true);
  await waitFor(() => got() === 100 && b.counters().queued_bytes === 0, 'all 100 delivered');
  assert.equal(b.counters().sessions_away, 0);
  await c.endAsync();
});

test('a client that comes back in time keeps its session, and its expiry is cancelled', async (t) => {
  const { b, publish, connect, away, back } = await broker(t, { sessionExpiry: 2000 });
  await away('dashboard');
  assert.equal(b.counters().sessions_away, 1);
  let got = 0;
  const c = await connect('dashboard');
  c.on('message', () => got++);
  assert.equal(b.counters().sessions_away, 0);
  // another client goes away after it: once that one's session has ended, the dashboard's would have too
  await away('other');
  await waitFor(() => b.counters().sessions_expired === 1, "the other client's session ended");
  await c.endAsync();
  await publish(3);
  const again = await back('dashboard');
  assert.equal(again.sessionPresent, true, 'the dashboard kept its session');
  await waitFor(() => again.got() === 3, 'what was queued while it was away');
  assert.equal(got, 0);
  await again.c.endAsync();
});

test('clean sessions and a client taken over by a new connection of the same id start no expiry', async (t) => {
  const { b, connect } = await broker(t, { sessionExpiry: 60_000 });
  const clean = await mqtt.connectAsync(b.url, { clientId: 'once', clean: true });
  await clean.endAsync();
  assert.equal(b.counters().sessions_away, 0);
  await connect('dashboard');
  const second = await connect('dashboard'); // takes the session over: the first connection is closed
  assert.ok(second.connected);
  await waitFor(() => b.counters().clients === 2, 'the first connection closed');
  assert.equal(b.counters().sessions_away, 0);
});

test('config: broker.session_expiry is 7 days by default; never keeps sessions', () => {
  const { broker } = mqttSchemas(schemaKit);
  assert.equal(broker.parse({}).session_expiry, 7 * 86_400_000);
  assert.equal(broker.parse({ session_expiry: '2h' }).session_expiry, 7_200_000);
  assert.equal(broker.parse({ session_expiry: 'never' }).session_expiry, 'never');
  assert.throws(() => broker.parse({ session_expiry: 'sometimes' }));
});
