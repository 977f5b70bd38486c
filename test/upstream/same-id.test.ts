import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SameIdWatch } from '../../src/upstream/same-id.js';
import { waitFor } from '../runtime/helpers.js';
import { FAST_RECONNECT, forwarderFor, forwarderTo, raw, TestBroker } from './helpers.js';
import { StrictBroker } from './strict-broker.js';

const status = (state: 'online' | 'offline', instance?: string, since?: number) =>
  Buffer.from(JSON.stringify({ schema: 1, gateway: 'gw-1', state, ...(since ? { since } : {}), ...(instance ? { instance } : {}) }));

test('SameIdWatch: what another instance of the same gateway id looks like on its status topic', () => {
  const w = new SameIdWatch();
  w.connected();
  assert.equal(w.judge(status('online', w.instance, 1), true), undefined, 'its own birth');
  assert.equal(w.judge(status('offline', 'aaaa'), true), undefined, 'first connection: the Last Will of its own previous run');
  assert.equal(w.judge(status('offline', 'aaaa', 5), true), undefined, 'first connection: the clean goodbye of its previous run');
  assert.equal(w.judge(status('online', 'aaaa', 5), true), 'aaaa', 'retained online of another instance: connected with another client id');
  assert.equal(w.judge(status('online', 'aaaa', 5), false), 'aaaa', 'published while this one is connected');
  assert.equal(w.judge(status('offline', 'aaaa'), false), undefined, "first connection: its crashed run's Last Will, published as this one took the session over");
  assert.equal(w.judge(status('online'), false), undefined, 'a gateway of an older version (no instance) is not judged');
  assert.equal(w.judge(Buffer.from('not json'), false), undefined);
  w.connected();
  assert.equal(w.judge(status('offline', w.instance), true), undefined, 'a reconnect: its own Last Will');
  assert.equal(w.judge(status('offline', 'aaaa'), true), 'aaaa', "a reconnect: another's Last Will — it was connected in between");
});

test('two gateways with the same id on one broker: each sees the other (MQTT 3.1.1, aedes); one gateway restarted or cut off sees nothing', async (t) => {
  const broker = new TestBroker();
  await broker.start();
  const a = forwarderFor(t, broker);
  await a.fwd.start();
  await waitFor(() => a.fwd.state() === 'online', 'a online');
  // Its own connection cut twice, and the broker restarted (retained status lost): nothing to see.
  for (let i = 0; i < 2; i++) {
    const connects = a.fwd.stats().connects;
    broker.cutConnections();
    await waitFor(() => a.fwd.stats().connects > connects && a.fwd.state() === 'online', 'a back online');
  }
  await broker.stop();
  await broker.start();
  await waitFor(() => a.fwd.stats().connects >= 4 && a.fwd.state() === 'online', 'a back after the broker restart');
  // Its next run (the process restarted: a new instance): the last run's goodbye is its own past.
  await a.fwd.stop();
  const a2 = forwarderTo(broker.url);
  t.after(() => a2.close());
  await a2.fwd.start();
  await waitFor(() => a2.fwd.state() === 'online', 'the next run online');
  const connects = a2.fwd.stats().connects;
  broker.cutConnections();
  await waitFor(() => a2.fwd.stats().connects > connects && a2.fwd.state() === 'online', 'the next run back online');
  assert.equal(a.fwd.stats().sameId + a2.fwd.stats().sameId, 0, 'one gateway alone never looks like two');

  // A second gateway with the same id (and so the same client id) joins.
  const b = forwarderTo(broker.url);
  t.after(() => b.close());
  await b.fwd.start();
  await waitFor(() => a2.fwd.stats().sameId > 0 && b.fwd.stats().sameId > 0, () => `both see the other (${a2.fwd.stats().sameId}, ${b.fwd.stats().sameId})`);
  assert.match(b.fwd.stats().lastError ?? '', /another gateway uses gateway id gw-1/);
  assert.equal(a2.fwd.stats().quarantined + b.fwd.stats().quarantined, 0, 'being thrown off by the other is not taken for a refused record');
  assert.equal(b.fwd.stats().refused, undefined);
});

test('two gateways with the same id but their own client ids: seen from the status published while connected', async (t) => {
  const broker = new TestBroker();
  await broker.start();
  const a = forwarderTo(broker.url, { client_id: 'a' });
  const b = forwarderTo(broker.url, { client_id: 'b' });
  t.after(async () => {
    await a.close();
    await b.close();
    await broker.stop();
  });
  await a.fwd.start();
  await waitFor(() => a.fwd.state() === 'online', 'a online');
  await b.fwd.start();
  await waitFor(() => a.fwd.stats().sameId > 0 && b.fwd.stats().sameId > 0, () => `both see the other (${a.fwd.stats().sameId}, ${b.fwd.stats().sameId})`);
  assert.equal(a.fwd.stats().disconnects + b.fwd.stats().disconnects, 0, 'nobody was thrown off: only the status tells');
});

test('a broker that closes the connection on the status subscription (AWS IoT Core, for one its policy refuses): the watch turns itself off after two, no record is taken for the cause', async (t) => {
  const broker = new StrictBroker({ closeOnSubscribe: true });
  await broker.start();
  const s = forwarderFor(t, broker, FAST_RECONNECT);
  for (let i = 1; i <= 50; i++) s.outbox.put(raw('dev1/x', i));
  s.outbox.flush();
  await s.fwd.start();
  await waitFor(() => s.outbox.stats().depth.messages === 0, () => `the outbox drained (${s.outbox.stats().depth.messages} left, ${broker.subscribeCloses} connections closed on the subscription)`);
  assert.equal(broker.subscribeCloses, 2);
  assert.equal(s.fwd.stats().quarantined, 0);
  assert.deepEqual(s.fwd.stats().refused, ['subscribe edgewise/v1/gw-1/status']);
  assert.equal(new Set(broker.accepted.map((m) => m.payload)).size, 50);
});
