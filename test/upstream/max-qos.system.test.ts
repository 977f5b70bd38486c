/**
 * A real Mosquitto whose listener takes QoS 0 only (`max_qos 0`): it refuses the gateway's CONNECT
 * because its Last Will is QoS 1 — with a CONNACK on MQTT 5, by closing the connection on MQTT
 * 3.1.1. Either way the log says why and what to do, and the records wait in the outbox. Needs the
 * `mosquitto` binary: `npm run test:system`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mosquitto } from '../helpers/mosquitto.js';
import { freePort } from '../runtime/helpers.js';
import { FAST_RECONNECT, forwarderFor, raw, tempDir, waitFor, warnings } from './helpers.js';

for (const protocol_version of [4, 5] as const) {
  test(`Mosquitto with max_qos 0, MQTT ${protocol_version === 5 ? '5' : '3.1.1'}: the refused connection is explained (max_qos), nothing is lost or kept back`, { timeout: 60_000 }, async (t) => {
    const tmp = tempDir('edgewise-mosq-max-qos-');
    const mosq = new Mosquitto(tmp.dir, await freePort(), ['max_qos 0']);
    await mosq.start();
    const { log, lines } = warnings();
    const { outbox, fwd } = forwarderFor(t, mosq, { ...FAST_RECONNECT, protocol_version }, log);
    t.after(() => tmp.cleanup());
    for (let i = 1; i <= 20; i++) outbox.put(raw('dev1/x', i));
    outbox.flush();
    await fwd.start();
    await waitFor(() => fwd.stats().disconnects >= 3, () => `three refused attempts (${fwd.stats().disconnects})`);
    const s = fwd.stats();
    assert.equal(s.connects, 0, 'Mosquitto never accepts the connection: the Last Will is QoS 1');
    assert.equal(s.quarantined, 0);
    assert.equal(outbox.depth(), 20);
    if (protocol_version === 5) {
      assert.match(s.lastError ?? '', /QoS not supported/);
      assert.match(lines.find((l) => l.includes('QoS not supported')) ?? '', /max_qos 0/);
    } else {
      assert.ok(s.noConnack >= 3, `counted as noConnack (${s.noConnack})`);
      assert.equal(lines.filter((l) => l.includes('closed the connection before accepting it')).length, 1, 'logged once a minute at most');
      assert.match(lines.find((l) => l.includes('closed the connection before accepting it'))!, /max_qos below 1/);
    }
  });
}
