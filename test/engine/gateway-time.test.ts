/**
 * The gateway's clock reaches the engine as the arrival time it stamps on each reading: through a
 * real embedded broker, a far-future reading is refused before the first tick, a time beyond the
 * Date range is counted (never thrown), and a device 2 min fast leaves a correct one alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseGatewayText } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/log.js';
import type { Emission } from '../../src/core/records.js';
import { Gateway } from '../../src/runtime/gateway.js';
import mqtt from 'mqtt';
import { freePort, waitFor } from '../runtime/helpers.js';
import { tempDir } from '../upstream/helpers.js';

test('gateway: arrival times decide the far future from the first reading; ts 1e20 is counted, not thrown', async (t) => {
  const { dir, cleanup } = tempDir('edgewise-time-');
  const port = await freePort();
  writeFileSync(join(dir, 'p.yaml'), 'name: temps\ninput: { streams: ["*/temperature"] }\nsteps:\n  - window: { type: tumbling, size: 10s, aggregates: [count] }\n  - output: agg\n');
  const loaded = parseGatewayText(`gateway: { id: gw-time, data_dir: data }\ninputs:\n  - { name: local, type: mqtt, broker: { port: ${port} } }\npipelines: [p.yaml]\n`, join(dir, 'edgewise.yaml'), {}, dir);
  const T0 = Date.UTC(2026, 0, 1, 12);
  let now = T0;
  const seen: Emission[] = [];
  // No tick during the test (tickMs huge): the arrival time alone carries the gateway clock.
  const gw = new Gateway({ config: loaded.config, pipelines: loaded.pipelines.map((p) => p.spec), baseDir: dir, log: silentLogger(), now: () => now, tickMs: 1e9, onEmission: (e) => seen.push(e) });
  t.after(async () => {
    await gw.stop();
    cleanup();
  });
  await gw.start();
  const msgs: Array<{ topic: string; payload: string }> = [
    { topic: 'sensors/ahead/temperature', payload: JSON.stringify({ value: 1, ts: T0 + 3_600_000 }) }, // an hour ahead: future
    { topic: 'sensors/huge/temperature', payload: '{"value":1,"ts":1e20}' },
  ];
  for (let s = 0; s < 30; s++) {
    msgs.push({ topic: 'sensors/fast/temperature', payload: JSON.stringify({ value: 1, ts: T0 + s * 1000 + 120_000 }) });
    msgs.push({ topic: 'sensors/good/temperature', payload: JSON.stringify({ value: 1, ts: T0 + s * 1000 }) });
  }
  // Arrival = the gateway clock, which follows the good device's time as the messages come in.
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
  (client as unknown as { stream: { setNoDelay?: (v: boolean) => void } }).stream.setNoDelay?.(true);
  let sent = 0;
  for (const m of msgs) {
    await client.publishAsync(m.topic, m.payload, { qos: 1 });
    if (++sent > 2 && sent % 2 === 0) now += 1000;
  }
  await client.endAsync();
  await waitFor(() => gw.stats().readings + (gw.stats().inputs[0]!.dropped.bad_timestamp ?? 0) >= msgs.length, 'every message handled');
  const st = gw.stats();
  const p = st.pipelines[0]!;
  assert.equal(p.dropped.future, 1, 'refused before any tick');
  assert.equal(st.inputs[0]!.dropped.bad_timestamp, 1, 'ts 1e20 counted by the driver');
  assert.equal(p.late, 0);
  assert.equal(p.unaccounted, 0);
  const good = seen.flatMap((e) => (e.kind === 'aggregate' && e.result.stream === 'good/temperature' ? [e.result.count] : []));
  assert.deepEqual(good, [10, 10]);
});
