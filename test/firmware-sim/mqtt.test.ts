import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmbeddedBroker } from '../../drivers/mqtt/index.js';
import { mqttConfigSchema } from '../helpers/schemas.js';
import { MqttIngest, type MqttConfig } from '../../drivers/mqtt/index.js';
import { MqttTransport, parseDomains, runLive, Simulation, SparkplugTransport } from '../../firmware-sim/index.js';
import { SparkplugIngest, sparkplugOptions } from '../../drivers/mqtt/sparkplug.js';
import { DropCounter } from '../../src/core/drops.js';
import type { Reading } from '../../src/core/reading.js';
import { waitFor } from '../drivers/helpers.js';

test('MQTT: the simulator publishes to an embedded aedes broker and the MQTT driver maps every reading to <device>/<metric>', async () => {
  const readings: Reading[] = [];
  const drops = new DropCounter();
  const ingest = new MqttIngest(mqttConfigSchema.parse({}) as MqttConfig, { emit: (r) => void readings.push(r), drops, now: () => 0 });
  const broker = await startEmbeddedBroker({ port: 0, allowAnonymous: true, onPublish: (topic, payload) => ingest.handle(topic, payload) });
  const sim = new Simulation({ domains: parseDomains('all'), devices: 2, rateHz: 5, seed: 9, start: Date.UTC(2024, 0, 1), durationMs: 60_000 });
  const expected: Reading[] = [];
  sim.run(0, sim.ticks, (s) => s.values.forEach((v, m) => { if (!Number.isNaN(v)) expected.push({ stream: `${s.device.id}/${s.device.metrics[m]}`, ts: s.t, value: v }); }));
  const replay = new Simulation(sim.opts);
  const t = await MqttTransport.connect({ url: broker.url });
  try {
    const summary = await runLive(replay, [t], { realTime: false });
    assert.equal(summary.ticks, sim.ticks);
    assert.equal(t.published, expected.length);
    await waitFor(() => readings.length >= expected.length, () => `${expected.length} readings through the broker (have ${readings.length})`, 30_000);
    assert.equal(drops.total(), 0);
    const key = (r: Reading) => `${r.stream}@${r.ts}=${r.value}`;
    assert.deepEqual(readings.map(key).sort(), expected.map(key).sort());
  } finally {
    await t.close();
    await broker.close();
  }
});

test('MQTT: a broker that is not there gives a clear error', async () => {
  const b = await startEmbeddedBroker({ port: 0, allowAnonymous: true });
  const url = b.url;
  await b.close();
  // Half a second, not the default 10 s (a broker that may be starting): the message is the point.
  await assert.rejects(MqttTransport.connect({ url, connectTimeoutMs: 500 }), /cannot connect to the MQTT broker at mqtt:\/\/127\.0\.0\.1:\d+ within 0.5 s; is it running\?/);
});

test('live pacing: ticks are sent when their time comes on an injected clock', async () => {
  let wall = Date.UTC(2024, 0, 1);
  const sim = new Simulation({ domains: ['vitals'], devices: 1, rateHz: 1, seed: 1, start: wall, durationMs: 5000 });
  const sent: number[] = [];
  const ac = new AbortController();
  const done = runLive(sim, [{ write: (s) => void sent.push(s.t) }], { now: () => wall, signal: ac.signal });
  await waitFor(() => sent.length >= 1, 'tick 0');
  assert.deepEqual(sent, [wall], 'only tick 0 is due at the start (the injected clock stands still)');
  wall += 2500;
  await waitFor(() => sent.length === 3, 'ticks 1 and 2 after 2.5 s');
  wall += 10_000;
  const s = await done;
  assert.equal(s.ticks, 5);
  assert.deepEqual(sent.map((t) => t - sent[0]!), [0, 1000, 2000, 3000, 4000]);
});

test('Sparkplug B: the simulator as an edge node (births, metrics by alias) into the MQTT input with sparkplug: every reading once, at its time; the births\' values are counted as repeats', async () => {
  const readings: Reading[] = [];
  const drops = new DropCounter();
  const sent: string[] = [];
  const cfg = mqttConfigSchema.parse({ sparkplug: {} }) as MqttConfig;
  const sp = new SparkplugIngest(sparkplugOptions(cfg), (topic) => sent.push(topic));
  const ingest = new MqttIngest(cfg, { emit: (r) => void readings.push(r), drops, now: () => 0 }, sp);
  const broker = await startEmbeddedBroker({ port: 0, allowAnonymous: true, onPublish: (topic, payload) => ingest.handle(topic, payload) });
  const sim = new Simulation({ domains: parseDomains('maintenance,vitals'), devices: 2, rateHz: 5, seed: 4, start: Date.UTC(2024, 0, 1), durationMs: 30_000 });
  const expected: Reading[] = [];
  sim.run(0, sim.ticks, (s) => s.values.forEach((v, m) => { if (!Number.isNaN(v)) expected.push({ stream: `sim.${s.device.id}/${s.device.metrics[m]}`, ts: s.t, value: v }); }));
  const t = await SparkplugTransport.connect({ url: broker.url, group: 'plant' });
  try {
    await runLive(new Simulation(sim.opts), [t], { realTime: false });
    assert.equal(t.published, expected.length);
    await waitFor(() => readings.length >= expected.length, () => `${expected.length} readings through the broker (have ${readings.length}, drops ${JSON.stringify(drops.counters())})`, 30_000);
    assert.equal(drops.total(), 0);
    const key = (r: Reading) => `${r.stream}@${r.ts}=${r.value}`;
    assert.deepEqual(readings.map(key).sort(), expected.map(key).sort());
    assert.equal(sp.births, 5, 'an NBIRTH and a DBIRTH per device');
    assert.ok(sp.repeats > 0, 'each DBIRTH carries the values of the DDATA that follows it');
    assert.deepEqual(sent, [], 'every alias was born: no rebirth asked');
  } finally {
    await t.close();
    await broker.close();
  }
});
