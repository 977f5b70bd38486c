import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseGatewayText } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/log.js';
import { Gateway } from '../../src/runtime/gateway.js';
import { readDeadLetters } from '../../src/runtime/outbox-file.js';
import { tempDir } from '../upstream/helpers.js';

test('a reading the gateway refuses is kept as a dead letter in the outbox: source, reason, the gateway clock\'s time, a sample', async (t) => {
  const { dir, cleanup } = tempDir('edgewise-dead-');
  t.after(cleanup);
  writeFileSync(join(dir, 'temps.yaml'), 'name: temps\ninput: { streams: ["*/temp"] }\nsteps:\n  - window: { type: tumbling, size: 10s, aggregates: [count] }\n  - output: agg\n');
  const loaded = parseGatewayText('gateway: { id: gw-dead, data_dir: data }\ninputs: []\npipelines: [temps.yaml]\noutbox: {}\n', join(dir, 'edgewise.yaml'), {}, dir);
  const now = Date.UTC(2026, 0, 1, 12);
  const gw = new Gateway({ config: loaded.config, pipelines: loaded.pipelines.map((p) => p.spec), baseDir: dir, log: silentLogger(), now: () => now, tickMs: 60_000 });
  await gw.start();
  gw.push({ stream: 'm1/temp', ts: now, value: 20 });
  gw.push({ stream: 'm1/temp', ts: now, value: Number.NaN });
  await gw.stop();
  const rows = readDeadLetters(join(dir, 'data', 'outbox.db'));
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.source, 'pipeline:temps');
  assert.equal(rows[0]!.reason, 'nan');
  assert.equal(rows[0]!.at, now);
  assert.match(rows[0]!.sample, /m1\/temp/);
});
