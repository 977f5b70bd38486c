import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../upstream/helpers.js';
import { freePort, publishAll, startRuntime, waitFor } from '../runtime/helpers.js';

// Needs Debian's prometheus (.ci/run installs it): the real scraper, parsing our exposition format.
const PROMETHEUS = process.env.PROMETHEUS_PATH ?? '/usr/bin/prometheus';
const TOKEN = 'scrape-token-0123456789';

interface Vector {
  status: string;
  data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

test('a real Prometheus scrapes a running gateway (bearer token) and answers a query on its counters', { timeout: 120_000 }, async (t) => {
  const { dir, cleanup } = tempDir('edgewise-prometheus-');
  const [inputPort, httpPort, promPort] = [await freePort(), await freePort(), await freePort()];
  const cfg = join(dir, 'edgewise.yaml');
  writeFileSync(join(dir, 'p.yaml'), 'name: temps\ninput: { streams: ["*/temperature"] }\nsteps:\n  - detect: { detector: default }\n  - window: { type: tumbling, size: 1s, aggregates: [mean] }\n  - output: upstream\n');
  writeFileSync(cfg, `gateway: { id: gw-prom, data_dir: data }\ninputs:\n  - { name: local, type: mqtt, broker: { port: ${inputPort} } }\npipelines: [p.yaml]\noutbox: {}\nhttp: { port: ${httpPort}, token: ${TOKEN} }\n`);
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: edgewise
    authorization: { credentials: ${TOKEN} }
    static_configs: [{ targets: ["127.0.0.1:${httpPort}"] }]
`,
  );
  const rt = await startRuntime(cfg);
  const prom = spawn(PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let promLog = '';
  prom.stdout.on('data', (d) => (promLog += d));
  prom.stderr.on('data', (d) => (promLog += d));
  const promExited = new Promise((r) => prom.once('exit', r));
  t.after(async () => {
    if (prom.exitCode === null) {
      prom.kill('SIGTERM');
      await Promise.race([promExited, new Promise((r) => setTimeout(r, 5000))]);
      if (prom.exitCode === null) prom.kill('SIGKILL');
    }
    if (rt.child.exitCode === null) rt.child.kill('SIGKILL');
    cleanup();
  });

  const t0 = Date.now() - 60_000;
  const readings = Array.from({ length: 250 }, (_, i) => ({ topic: `sensors/m${i % 5}/temperature`, payload: JSON.stringify({ value: 20 + (i % 7), ts: t0 + i * 100 }) }));
  readings.push({ topic: 'sensors/m1/temperature', payload: 'not a number' });
  await publishAll(`mqtt://127.0.0.1:${inputPort}`, readings);
  const handledAt = Date.now() / 1000; // each message was handled before its PUBACK, the refused one last

  const query = async (q: string): Promise<Vector['data']['result']> => {
    try {
      const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`);
      if (!res.ok) return [];
      return ((await res.json()) as Vector).data.result;
    } catch {
      return []; // Prometheus still starting
    }
  };
  // A scrape that began after the last message was handled: one from between the 250th reading and
  // the refused payload would show 250 readings and no drop.
  let readingsTotal = 0;
  await waitFor(
    async () => {
      const scrapedAt = Number((await query('timestamp(edgewise_readings_total{job="edgewise"})'))[0]?.value[1] ?? 0);
      readingsTotal = Number((await query('edgewise_readings_total{job="edgewise"}'))[0]?.value[1] ?? 0);
      return scrapedAt > handledAt;
    },
    () => `Prometheus to scrape edgewise_readings_total after the input was handled; prometheus log:\n${promLog}`,
    60_000,
  );
  assert.equal(readingsTotal, 250);
  assert.equal((await query('up{job="edgewise"}'))[0]?.value[1], '1', 'the scrape with the bearer token succeeds');
  const accepted = await query('edgewise_pipeline_accepted_total{pipeline="temps"}');
  assert.equal(accepted[0]?.value[1], '250');
  const dropped = await query('sum by (reason) (edgewise_input_dropped_total{input="local"})');
  assert.ok(dropped.length >= 1 && dropped.every((d) => Number(d.value[1]) >= 1), `the refused payload is counted by reason: ${JSON.stringify(dropped)}`);
  assert.ok(Number((await query('edgewise_process_resident_memory_bytes'))[0]?.value[1]) > 0, 'process metrics');
  // 50 readings a sensor: each of the 5 still in the default detector's warm-up (100)
  assert.equal((await query('edgewise_detector_streams{pipeline="temps",detector="default",state="learning"}'))[0]?.value[1], '5');
  assert.equal((await query('edgewise_detector_streams{pipeline="temps",detector="default",state="judging"}'))[0]?.value[1], '0');
  // the query docs/operations.md gives for streams that never leave it is one Prometheus takes
  const documented = 'min_over_time(edgewise_detector_streams{state="learning"}[6h]) > 0';
  assert.ok(readFileSync('docs/operations.md', 'utf8').includes(documented));
  const res = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(documented)}`)).json()) as Vector;
  assert.equal(res.status, 'success', JSON.stringify(res));
});
