/**
 * "Acknowledged means durable" against a real Mosquitto upstream: `edgewise run` SIGKILLed and
 * Mosquitto stopped and restarted while a QoS 1 publisher runs. CI runs 6 of each (under two
 * minutes); CRASH_FAULTS=20 CRASH_RATE=2000 runs the long version (20 kills + 20 outages).
 */
import { test } from 'node:test';
import { Mosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../upstream/helpers.js';
import { crashScenario } from './crash-scenario.js';
import { freePort } from './helpers.js';

test('acknowledged means durable, Mosquitto upstream: SIGKILLs and outages lose nothing acknowledged; upstream equals a run without faults', { timeout: 600_000 }, async (t) => {
  const tmp = tempDir('edgewise-crash-mosq-');
  const mosq = new Mosquitto(tmp.dir, await freePort());
  t.after(async () => {
    await mosq.close();
    tmp.cleanup();
  });
  await mosq.start();
  await mosq.collect();
  const faults = Number(process.env.CRASH_FAULTS ?? 6);
  const r = await crashScenario({ url: mosq.url, start: () => mosq.start(), stop: () => mosq.stop(), payloads: () => mosq.received }, { kills: faults, outages: faults, rate: Number(process.env.CRASH_RATE ?? 1000), devices: 8 });
  t.diagnostic(JSON.stringify(r));
});
