import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseGatewayText } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/log.js';
import { Gateway } from '../../src/runtime/gateway.js';
import { startStatsUpstream } from '../../src/runtime/stats-upstream.js';
import { statsPayloadSchema } from '../../src/upstream/payload-schema.js';
import { TestBroker, tempDir } from '../upstream/helpers.js';
import { freePort, publishAll, waitFor } from '../runtime/helpers.js';

test('gateway stats go upstream as a retained <prefix>/<gateway>/stats message that matches its schema', async (t) => {
  const { dir, cleanup } = tempDir('edgewise-stats-up-');
  const upstream = new TestBroker();
  await upstream.start();
  const inputPort = await freePort();
  writeFileSync(join(dir, 'p.yaml'), 'name: temps\ninput: { streams: ["*/temperature"] }\nsteps:\n  - detect: { detector: default }\n  - output: upstream\n');
  const yaml = `gateway: { id: gw-stats, data_dir: data }\ninputs:\n  - { name: local, type: mqtt, broker: { port: ${inputPort} } }\npipelines: [p.yaml]\nupstream: { url: "${upstream.url}" }\nstats_upstream: 100ms\n`;
  const { config, pipelines } = parseGatewayText(yaml, join(dir, 'edgewise.yaml'), {});
  assert.equal(config.stats_upstream, 100);
  const gateway = new Gateway({ config, pipelines: pipelines.map((p) => p.spec), baseDir: dir, log: silentLogger() });
  await gateway.start();
  const uplink = gateway.uplink!;
  const stop = startStatsUpstream({ everyMs: config.stats_upstream, stats: () => gateway.stats(), alertsActive: () => ({ warning: 2 }), publish: (n, p) => uplink.publishRetained(n, p), log: silentLogger() });
  t.after(async () => {
    stop();
    await gateway.stop();
    await upstream.stop();
    cleanup();
  });
  await publishAll(`mqtt://127.0.0.1:${inputPort}`, [
    { topic: 'sensors/m1/temperature', payload: '{"value": 20}' },
    { topic: 'sensors/m1/temperature', payload: 'oops' },
  ]);
  const stats = () => upstream.received.filter((m) => m.topic === 'edgewise/v1/gw-stats/stats');
  // The reading and the bad payload are counted one after the other: a message may come between.
  const countsBoth = (m: { payload: Buffer }) => {
    const b = JSON.parse(m.payload.toString()) as { readings: number; dropped: Record<string, number> };
    return b.readings === 1 && Object.keys(b.dropped).some((k) => k.startsWith('input:local.'));
  };
  await waitFor(() => stats().some(countsBoth), 'a stats message counting the reading and the bad payload');
  const last = stats().findLast(countsBoth)!;
  assert.equal(last.retain, true);
  const body = statsPayloadSchema.parse(JSON.parse(last.payload.toString()));
  assert.equal(body.gateway, 'gw-stats');
  assert.deepEqual(body.alerts_active, { warning: 2 });
  assert.ok(Object.keys(body.dropped).some((k) => k.startsWith('input:local.')), JSON.stringify(body.dropped));
  assert.equal(body.inputs[0]?.state, 'up');
  assert.ok(body.process.rss_bytes > 0);
  assert.equal(body.uplink?.connects, 1);
  assert.deepEqual(body.pipelines[0]?.detectors, [{ step: 'default', streams: 1, learning: 1 }], 'one reading: its detector still learning');
});
