/**
 * Decoding cost of the MQTT input per reading: Sparkplug B DDATA (10 metrics by alias, after a
 * DBIRTH) against the same 10 values as one JSON object, through `MqttIngest.handle` (topic,
 * payload → readings), in process, one core. Rounds alternate the two forms in the same run.
 *
 * Run: npx tsx bench/sparkplug.bench.ts
 */
import sparkplug from 'sparkplug-payload';
import { MqttIngest, type MqttConfig } from '../drivers/mqtt/index.js';
import { SparkplugIngest, sparkplugOptions } from '../drivers/mqtt/sparkplug.js';
import { DropCounter } from '../src/core/drops.js';
import { silentLogger } from '../src/core/log.js';
import { mqttConfigSchema } from '../test/helpers/schemas.js';

const codec = sparkplug.get('spBv1.0')!;
const METRICS = 10;
const DEVICES = 100;
const MESSAGES = 200_000;
const NAMES = Array.from({ length: METRICS }, (_, i) => `Line/Sensor ${i}`);

let readings = 0;
const ctx = { emit: () => void readings++, drops: new DropCounter(), log: silentLogger(), now: Date.now };
const cfg = mqttConfigSchema.parse({ topics: ['sensors/{device}'], sparkplug: {}, max_payload_bytes: 65536 }) as MqttConfig;
const sp = new SparkplugIngest({ ...sparkplugOptions(cfg), rebirth: false }, () => {});
const ingest = new MqttIngest(cfg, ctx, sp);

const t0 = Date.now();
for (let d = 0; d < DEVICES; d++) {
  ingest.handle(`spBv1.0/plant/DBIRTH/edge-1/dev-${d}`, Buffer.from(codec.encodePayload({ timestamp: t0, seq: d, metrics: NAMES.map((name, i) => ({ name, alias: d * 100 + i, type: 'Double', value: 0 })) })));
}
const sparkplugMsgs = Array.from({ length: 1000 }, (_, k) => {
  const d = k % DEVICES;
  return { topic: `spBv1.0/plant/DDATA/edge-1/dev-${d}`, payload: Buffer.from(codec.encodePayload({ timestamp: t0 + k, seq: k & 255, metrics: NAMES.map((_, i) => ({ alias: d * 100 + i, type: 'Double', value: 20 + i + k / 1000 })) })) };
});
const jsonMsgs = Array.from({ length: 1000 }, (_, k) => {
  const o: Record<string, number> = { ts: t0 + k };
  for (let i = 0; i < METRICS; i++) o[`Line_Sensor_${i}`] = 20 + i + k / 1000;
  return { topic: `sensors/dev-${k % DEVICES}`, payload: Buffer.from(JSON.stringify(o)) };
});

function round(msgs: Array<{ topic: string; payload: Buffer }>): { perSec: number; usPerReading: number; bytes: number } {
  const before = readings;
  const cpu = process.cpuUsage();
  const t = performance.now();
  for (let n = 0; n < MESSAGES; n++) {
    const m = msgs[n % msgs.length]!;
    ingest.handle(m.topic, m.payload);
  }
  const ms = performance.now() - t;
  const c = process.cpuUsage(cpu);
  const got = readings - before;
  if (got !== MESSAGES * METRICS) throw new Error(`expected ${MESSAGES * METRICS} readings, got ${got} (drops ${JSON.stringify(ctx.drops.counters())})`);
  return { perSec: (got / ms) * 1000, usPerReading: ((c.user + c.system) / got), bytes: msgs.reduce((s, m) => s + m.payload.length, 0) / msgs.length };
}

const rows: Record<string, string | number>[] = [];
for (let r = 0; r < 3; r++) {
  for (const [form, msgs] of [['Sparkplug B DDATA', sparkplugMsgs], ['JSON object', jsonMsgs]] as const) {
    const x = round(msgs);
    rows.push({ round: r + 1, form, 'readings/s': Math.round(x.perSec), 'µs CPU per reading': x.usPerReading.toFixed(3), 'payload bytes': Math.round(x.bytes) });
  }
}
console.log(`\nMQTT input decoding, ${METRICS} values per message, ${DEVICES} devices, ${MESSAGES} messages a round (in process, one core)`);
console.table(rows);
