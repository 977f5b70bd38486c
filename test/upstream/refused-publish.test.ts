import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../runtime/helpers.js';
import { aggregate, forwarderFor } from './helpers.js';
import { StrictBroker } from './strict-broker.js';

test('a publish the broker refuses (MQTT 5 PUBACK 0x87) stays in the outbox, is counted, and goes out after a reconnect', async (t) => {
  const broker = new StrictBroker();
  broker.refusing = true;
  await broker.start();
  const s = forwarderFor(t, broker, { protocol_version: 5 });
  for (let i = 0; i < 5; i++) s.outbox.put(aggregate('dev1/temp', i));
  s.outbox.flush();
  await s.fwd.start();
  await waitFor(() => s.fwd.stats().publishErrors >= 5, 'five refused publishes');
  assert.equal(s.fwd.stats().acked, 0);
  assert.equal(s.outbox.stats().depth.messages, 5, 'a refused message is not deleted from the outbox');

  broker.refusing = false;
  broker.cutConnections();
  await waitFor(() => s.outbox.stats().depth.messages === 0, 'the outbox drained after the reconnect');
  assert.deepEqual(broker.accepted.map((m) => JSON.parse(m.payload).seq), [1, 2, 3, 4, 5]);
});
