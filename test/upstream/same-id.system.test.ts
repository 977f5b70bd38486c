/**
 * Two gateways with the same gateway id against a real Mosquitto: each must say so. Needs the
 * `mosquitto` binary: run with `npm run test:system`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mosquitto } from '../helpers/mosquitto.js';
import { freePort } from '../runtime/helpers.js';
import { forwarderTo, tempDir, waitFor } from './helpers.js';

for (const protocol_version of [4, 5] as const) {
  test(`Mosquitto, MQTT ${protocol_version === 5 ? '5' : '3.1.1'}: two gateways with one gateway id each see the other; one alone, cut off and restarted, does not`, { timeout: 60_000 }, async (t) => {
    const tmp = tempDir('edgewise-mosq-same-id-');
    const mosq = new Mosquitto(tmp.dir, await freePort());
    await mosq.start();
    const a = forwarderTo(mosq.url, { protocol_version });
    t.after(async () => {
      await a.close();
      await mosq.stop();
      tmp.cleanup();
    });
    await a.fwd.start();
    await waitFor(() => a.fwd.state() === 'online', 'a online');
    await mosq.stop(); // persistence on: the retained status survives
    await mosq.start();
    await waitFor(() => a.fwd.stats().connects === 2 && a.fwd.state() === 'online', 'a back online after the broker restart');
    assert.equal(a.fwd.stats().sameId, 0);

    const b = forwarderTo(mosq.url, { protocol_version });
    t.after(() => b.close());
    await b.fwd.start();
    await waitFor(() => a.fwd.stats().sameId > 0 && b.fwd.stats().sameId > 0, () => `both see the other (${a.fwd.stats().sameId}, ${b.fwd.stats().sameId})`);
  });
}
