import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../runtime/helpers.js';
import { aggregate, forwarderFor, TestBroker } from './helpers.js';

test('a broker that stays connected but stops acknowledging: after ack_timeout the connection is made again and everything goes, nothing quarantined', async (t) => {
  const broker = new TestBroker();
  broker.hold = true; // takes the connection and the publishes, never acknowledges one
  await broker.start();
  const s = forwarderFor(t, broker, { ack_timeout: 300, reconnect_min: 20, reconnect_max: 100, reconnect_probe: 0 });
  for (let i = 0; i < 20; i++) s.outbox.put(aggregate(`d${i % 4}/t`, i));
  s.outbox.flush();
  await s.fwd.start();
  await waitFor(() => s.fwd.stats().ackTimeouts >= 6, () => `six connections ended for want of a PUBACK (${s.fwd.stats().ackTimeouts})`);
  assert.equal(s.outbox.stats().depth.messages, 20, 'nothing acknowledged without a PUBACK');
  broker.hold = false; // the broker's store is back
  await waitFor(() => s.outbox.stats().depth.messages === 0, () => `resent and acknowledged (${s.outbox.stats().depth.messages} left)`);
  assert.equal(s.fwd.stats().quarantined, 0, 'connections this gateway ended are not taken for a refused record');
});

test('ack_timeout 0: no watchdog', async (t) => {
  const broker = new TestBroker();
  broker.hold = true;
  await broker.start();
  const s = forwarderFor(t, broker, { ack_timeout: 0 });
  s.outbox.put(aggregate('d/t', 1));
  s.outbox.flush();
  await s.fwd.start();
  await waitFor(() => broker.held === 1, 'the publish held');
  const connects = s.fwd.stats().connects;
  await new Promise<void>((r) => setTimeout(r, 400)); // the feature's input: time with no PUBACK, longer than the other test's ack_timeout
  assert.equal(s.fwd.stats().connects, connects);
  assert.equal(s.fwd.stats().ackTimeouts, 0);
});
