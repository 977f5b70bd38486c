import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../runtime/helpers.js';
import { FAST_RECONNECT, forwarderFor, raw } from './helpers.js';
import { StrictBroker } from './strict-broker.js';

for (const [name, upstream, refusals] of [
  ['MQTT 5: the broker says so (CONNACK 0x9A for the retained Last Will, then Retain Available 0) and the gateway follows', { protocol_version: 5 }, 1],
  ['MQTT 3.1.1 with upstream.retain: false', { retain: false }, 0],
] as const) {
  test(`a broker without retained messages: ${name}; status unretained, every record delivered`, async (t) => {
    const b = new StrictBroker({ noRetain: true });
    await b.start();
    const s = forwarderFor(t, b, { ...FAST_RECONNECT, ...upstream });
    for (let i = 1; i <= 50; i++) s.outbox.put(raw('dev1/x', i));
    s.outbox.flush();
    await s.fwd.start();
    await waitFor(() => s.outbox.stats().depth.messages === 0, () => `the outbox drained (${s.outbox.stats().depth.messages} left; ${b.overRetain} connections refused or closed for a retained message)`);
    assert.ok(s.fwd.publishRetained('stats', '{}'), 'stats publish while online');
    await s.fwd.stop();
    assert.equal(b.overRetain, refusals);
    assert.deepEqual(b.statuses, [
      { state: 'online', retain: false },
      { state: 'offline', retain: false },
    ]);
  });
}
