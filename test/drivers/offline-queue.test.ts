/**
 * The embedded broker (real aedes, real mqtt.js clients on loopback) bounds what it queues for
 * clients with a persistent session. Until 2026-12-05 it queued every QoS 1 message for a
 * subscriber that went away, without limit (20,000 publishes: all 20,000 kept, ~290 bytes each,
 * and delivered when it came back): a dashboard that never came back took the gateway's memory.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqtt from 'mqtt';
import type { EmbeddedBrokerOptions } from '../../drivers/mqtt/index.js';
import { brokerWithDevice, waitFor } from './helpers.js';

const PAYLOAD = JSON.stringify({ value: 20.5, ts: 1764900000000 });

async function broker(t: { after: (fn: () => Promise<void>) => void }, opts: EmbeddedBrokerOptions = {}) {
  const { b, dev } = await brokerWithDevice(t, opts);
  const publish = async (n: number, topic = 'sensors/pump-1/temp') => {
    for (let i = 0; i < n; i += 100) await Promise.all(Array.from({ length: Math.min(100, n - i) }, () => dev.publishAsync(topic, PAYLOAD, { qos: 1 })));
  };
  /** Subscribe with a persistent session and go away. */
  const away = async (clientId: string) => {
    const c = await mqtt.connectAsync(b.url, { clientId, clean: false });
    await c.subscribeAsync('sensors/#', { qos: 1 });
    await c.endAsync();
  };
  /** Come back: the queued messages it gets (all of them: once the broker has only `others` bytes queued for other clients, all were delivered and acknowledged). */
  const back = async (clientId: string, others = 0) => {
    let got = 0;
    const c = mqtt.connect(b.url, { clientId, clean: false });
    c.on('message', () => got++);
    await new Promise((r) => c.once('connect', r));
    await waitFor(() => got > 0 && b.counters().queued_bytes === others, `${clientId}: its queue delivered and acknowledged`);
    await c.endAsync();
    return got;
  };
  return { b, publish, away, back };
}

test('a subscriber with a persistent session that went away gets at most max_queued_messages (default 1000) when it comes back; the rest are counted', async (t) => {
  const { b, publish, away, back } = await broker(t);
  await away('dashboard');
  await publish(1500);
  assert.equal(b.counters().queue_dropped, 500);
  assert.ok(b.counters().queued_bytes > 1000 * PAYLOAD.length && b.counters().queued_bytes < 1000 * 120, `${b.counters().queued_bytes} bytes queued`);
  assert.equal(await back('dashboard'), 1000);
  assert.equal(b.counters().queued_bytes, 0, 'acknowledged: nothing queued any more');
});

test('messages delivered and acknowledged while the client is connected do not count against its queue', { timeout: 60_000 }, async (t) => {
  const { b, publish, away, back } = await broker(t, { maxQueuedMessages: 100 });
  await away('dashboard');
  // connected: 1,000 messages go through it, each acknowledged (aedes queues each until its PUBACK)
  let live = 0;
  const c = await mqtt.connectAsync(b.url, { clientId: 'dashboard', clean: false, reconnectPeriod: 0 });
  c.on('message', () => live++);
  await publish(1000);
  await waitFor(() => live === 1000, 'the live messages');
  await c.endAsync();
  assert.equal(b.counters().queue_dropped, 0);
  // away again: its queue holds 100, as if the 1,000 had never been
  await publish(150);
  assert.equal(await back('dashboard'), 100);
  assert.equal(b.counters().queue_dropped, 50);
});

test('all queues together are bounded in bytes: many sessions abandoned do not take the memory either', async (t) => {
  const size = 'sensors/pump-1/temp'.length + PAYLOAD.length;
  const { b, publish, away, back } = await broker(t, { maxQueuedBytes: 150 * size });
  await away('old-1');
  await away('old-2');
  await publish(100);
  // the first 75 messages are queued for both, the last 25 for neither
  assert.equal(b.counters().queue_dropped, 50);
  assert.equal(b.counters().queued_bytes, 150 * size);
  assert.equal(await back('old-1', 75 * size), 75);
  assert.equal(await back('old-2'), 75);
});
