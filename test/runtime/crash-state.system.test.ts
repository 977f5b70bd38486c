/**
 * "Acknowledged means durable" against a real Mosquitto upstream: `edgewise run` SIGKILLed and
 * Mosquitto stopped and restarted while a QoS 1 publisher runs. CI runs 6 of each (under two
 * minutes); CRASH_FAULTS=20 CRASH_RATE=2000 runs the long version (20 kills + 20 outages). With the
 * default checkpoint gate (the npm test takes a checkpoint between kills instead).
 */
import type net from 'node:net';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { Mosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../upstream/helpers.js';
import { crashScenario } from './crash-scenario.js';
import { freePort, waitFor } from './helpers.js';

test('acknowledged means durable, Mosquitto upstream: SIGKILLs and outages lose nothing acknowledged; upstream equals a run without faults', { timeout: 600_000 }, async (t) => {
  const tmp = tempDir('edgewise-crash-mosq-');
  const mosq = new Mosquitto(tmp.dir, await freePort());
  await mosq.start();
  const url = `mqtt://127.0.0.1:${mosq.port}`;
  // The collector: a persistent session (clean: false) at QoS 1, so an outage loses nothing on its side.
  const received: Array<{ topic: string; payload: Buffer }> = [];
  const collector = mqtt.connect(url, { clientId: 'collector', clean: false, reconnectPeriod: 100 });
  collector.on('connect', () => (collector.stream as net.Socket).setNoDelay?.(true));
  collector.on('message', (topic, payload) => {
    if (!topic.endsWith('/status') && !topic.endsWith('/stats')) received.push({ topic, payload: Buffer.from(payload) });
  });
  collector.on('error', () => {});
  t.after(async () => {
    collector.end(true);
    await mosq.stop();
    tmp.cleanup();
  });
  await waitFor(() => collector.connected, 'the collector to connect');
  await collector.subscribeAsync('edgewise/v1/#', { qos: 1 });
  const faults = Number(process.env.CRASH_FAULTS ?? 6);
  const r = await crashScenario(
    { url, start: () => mosq.start(), stop: () => mosq.stop(), payloads: () => received },
    { kills: faults, outages: faults, rate: Number(process.env.CRASH_RATE ?? 1000), devices: 8 },
  );
  t.diagnostic(JSON.stringify(r));
});
