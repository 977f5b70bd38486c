import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseGatewayText } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/log.js';
import { LiveState } from '../../src/http/live.js';
import { HttpServer } from '../../src/http/server.js';
import { Gateway } from '../../src/runtime/gateway.js';
import { readDeadLetters } from '../../src/runtime/outbox-file.js';
import { tempDir } from '../upstream/helpers.js';
import { freePort, publishAll, waitFor } from '../runtime/helpers.js';

const PIPELINE = `
name: temps
input:
  streams: ["*/temperature"]
steps:
  - detect: { detector: ewma, alert: { severity: critical } }
  - output: alerts
`;

const TOKEN = 'a-token-of-sixteen-chars-or-more';

/** A gateway with an embedded MQTT input and the HTTP server, wired as `edgewise run` wires them. */
async function start(t: import('node:test').TestContext, httpYaml: string) {
  const { dir, cleanup } = tempDir('edgewise-http-');
  const inputPort = await freePort();
  writeFileSync(join(dir, 'temps.yaml'), PIPELINE);
  const yaml = `
gateway: { id: gw-http, data_dir: data }
inputs:
  - { name: local, type: mqtt, broker: { port: ${inputPort} } }
pipelines: [temps.yaml]
outbox: { commit_interval: 10ms }
http: ${httpYaml}
`;
  const file = join(dir, 'edgewise.yaml');
  writeFileSync(file, yaml);
  const { config, pipelines } = parseGatewayText(yaml, file, {});
  const live = new LiveState();
  let server: HttpServer | undefined;
  let started = false;
  const gateway = new Gateway({
    config,
    pipelines: pipelines.map((p) => p.spec),
    baseDir: dir,
    log: silentLogger(),
    onEmission: (e) => live.onEmission(e),
    onDetect: (p, e) => {
      live.onDetect(p, e);
      server?.observeScore(p, e.step, e.stream, e.score);
    },
  });
  server = new HttpServer({ settings: config.http!, gatewayId: config.gateway.id, stats: () => gateway.stats(), live, started: () => started, log: silentLogger() });
  const addr = await server.listen();
  t.after(async () => {
    await gateway.stop();
    await server.close();
    cleanup();
  });
  const base = `http://127.0.0.1:${addr.port}`;
  const notReady = await fetch(`${base}/readyz`, { headers: { authorization: `Bearer ${TOKEN}` } });
  await gateway.start();
  started = true;
  return { base, gateway, live, inputUrl: `mqtt://127.0.0.1:${inputPort}`, notReadyStatus: notReady.status };
}

test('metrics, health, readiness and dead letters of a running gateway, behind a bearer token', async (t) => {
  const { base, gateway, inputUrl, notReadyStatus } = await start(t, `{ port: 0, token: ${TOKEN} }`);
  assert.equal(notReadyStatus, 503, '/readyz is 503 before the gateway has started');
  const auth = { headers: { authorization: `Bearer ${TOKEN}` } };

  // Health needs no token; everything else does (wrong token, no token: 401).
  const health = await fetch(`${base}/healthz`);
  assert.equal(health.status, 200);
  assert.equal(((await health.json()) as { status: string }).status, 'ok');
  assert.equal((await fetch(`${base}/metrics`)).status, 401);
  assert.equal((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status, 401);
  assert.equal((await fetch(`${base}/api/status`)).status, 401);
  assert.equal((await fetch(`${base}/app.js`)).status, 200, "the dashboard's files hold no data: no token needed");
  assert.equal((await fetch(`${base}/api/events?token=wrong`)).status, 401);
  const events = await fetch(`${base}/api/events?token=${TOKEN}`);
  assert.equal(events.status, 200, 'the dashboard passes the token as ?token= (EventSource sends no headers)');
  await events.body?.cancel();
  const ready = await fetch(`${base}/readyz`, auth);
  assert.equal(ready.status, 200);
  const r = (await ready.json()) as { ready: boolean; checks: Record<string, { ok: boolean }> };
  assert.equal(r.checks['input:local']?.ok, true);
  assert.equal(r.checks.outbox?.ok, true);

  // Steady readings, a spike that raises an alert, and bad input of three kinds.
  const t0 = Date.now() - 600_000;
  const msgs: Array<{ topic: string; payload: string }> = [];
  for (let i = 0; i < 300; i++) msgs.push({ topic: 'sensors/m1/temperature', payload: JSON.stringify({ value: 20 + Math.sin(i) * 0.5, ts: t0 + i * 1000 }) });
  for (let i = 300; i < 305; i++) msgs.push({ topic: 'sensors/m1/temperature', payload: JSON.stringify({ value: 90, ts: t0 + i * 1000 }) });
  msgs.push({ topic: 'sensors/m1/temperature', payload: 'hello' });
  msgs.push({ topic: 'sensors/m1/temperature', payload: JSON.stringify({ value: 'NaN', ts: t0 + 400_000 }) });
  msgs.push({ topic: 'nowhere', payload: '1' });
  const before = Date.now();
  await publishAll(inputUrl, msgs);
  await waitFor(() => gateway.stats().readings >= 305, 'the readings to arrive');

  const metrics = await (await fetch(`${base}/metrics`, auth)).text();
  const value = (series: string) => {
    const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
    assert.ok(line, `${series} in /metrics:\n${metrics.slice(0, 3000)}`);
    return Number(line.split(' ').pop());
  };
  assert.ok(value('edgewise_readings_total') >= 305);
  assert.equal(value('edgewise_input_up{input="local",kind="mqtt"}'), 1);
  assert.ok(value('edgewise_pipeline_accepted_total{pipeline="temps"}') >= 305);
  assert.equal(value('edgewise_alerts_active{severity="critical"}'), 1, `the spike raised one critical alert: ${JSON.stringify(gateway.stats().pipelines)}`);
  assert.equal(value('edgewise_alerts_raised_total{severity="critical"}'), 1);
  assert.ok(value('edgewise_detector_score_count{pipeline="temps",detector="ewma"}') >= 305, 'every judgement is in the score histogram');
  assert.equal(value('edgewise_detector_streams{pipeline="temps",detector="ewma",state="judging"}'), 1, 'past its warm-up');
  assert.equal(value('edgewise_detector_streams{pipeline="temps",detector="ewma",state="learning"}'), 0);
  assert.equal(value('edgewise_outbox_messages{priority="alert"}'), 1, 'no uplink: the alert waits in the outbox');
  const ob = gateway.stats().outbox!;
  assert.ok(ob.keys.inMemory >= 1, 'the alert topic\'s sequence key at least');
  assert.equal(value('edgewise_outbox_topics_in_memory{kind="keys"}'), ob.keys.inMemory);
  assert.equal(value('edgewise_outbox_topics_in_memory{kind="ids"}'), ob.ids.kept);
  assert.ok(value('edgewise_input_dropped_total{input="local",reason="unknown_topic"}') >= 1);
  assert.ok(metrics.includes('edgewise_process_resident_memory_bytes'), 'process metrics');
  if (process.platform === 'linux') assert.ok(value('edgewise_storage_written_bytes_total') >= 0, 'bytes written to storage (SD-card wear)');
  assert.ok(metrics.includes('edgewise_nodejs_eventloop_lag_seconds'), 'event-loop lag');
  // Crash-safe state: the journal took every reading, and the checkpoint at start is live.
  assert.ok(value('edgewise_state_journal_appended_total') >= 305);
  assert.ok(value('edgewise_state_journal_commits_total') >= 1);
  assert.ok(value('edgewise_state_checkpoints_total') >= 1);
  assert.ok(value('edgewise_state_last_checkpoint_timestamp_seconds') * 1000 <= Date.now());
  assert.ok(value('edgewise_state_last_checkpoint_bytes') > 0);
  assert.equal(value('edgewise_state_journal_failed_commits_total'), 0);
  assert.ok(!/stream="/.test(metrics), 'no per-stream label unless http.metrics.per_stream');

  // Dead letters: each refused message, with the wall-clock time it was refused.
  const dead = (await (await fetch(`${base}/api/dead-letters`, auth)).json()) as Array<{ source: string; reason: string; at: number; sample: string }>;
  const reasons = dead.map((d) => `${d.source}/${d.reason}`);
  assert.ok(reasons.includes('input:local/unknown_topic'), JSON.stringify(dead));
  assert.ok(dead.length >= 3, `hello, NaN and the unknown topic are dead letters: ${JSON.stringify(dead)}`);
  for (const d of dead) assert.ok(d.at >= before && d.at <= Date.now(), `dead letter ${d.reason} has a real time: ${d.at}`);
  const badSince = await fetch(`${base}/api/dead-letters?since=yesterday`, auth);
  assert.equal(badSince.status, 400);
  assert.match(((await badSince.json()) as { error: string }).error, /since=yesterday: expected a whole number/);
  const recent = (await (await fetch(`${base}/api/dead-letters?since=${Date.now() + 60_000}`, auth)).json()) as unknown[];
  assert.equal(recent.length, 0, 'since filters');
  const onlyInput = readDeadLetters(gateway.stats().outbox!.path, { source: 'local' });
  assert.ok(onlyInput.length >= 1 && onlyInput.every((d) => d.source === 'input:local'));

  // Status: the alert with its explanation.
  const status = (await (await fetch(`${base}/api/status`, auth)).json()) as { alerts: { active: Array<{ stream: string; reason?: string; baseline?: number }> }; dropped: Record<string, number> };
  assert.equal(status.alerts.active[0]?.stream, 'm1/temperature');
  assert.ok(status.alerts.active[0]?.reason, 'the alert says which rule fired');
  assert.ok(Object.keys(status.dropped).some((k) => k.startsWith('input:local.')), JSON.stringify(status.dropped));
});

test('http.metrics.per_stream adds the stream label to the score histogram; the dashboard and its stream are served', async (t) => {
  const { base, gateway, inputUrl } = await start(t, '{ port: 0, metrics: { per_stream: true } }');
  await publishAll(inputUrl, [{ topic: 'sensors/m2/temperature', payload: JSON.stringify({ value: 21, ts: Date.now() - 1000 }) }]);
  await waitFor(() => gateway.stats().readings >= 1, 'the reading');
  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.match(metrics, /edgewise_detector_score_count\{pipeline="temps",detector="ewma",stream="m2\/temperature"\} 1/);
  const page = await fetch(`${base}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<script src="app.js"/);
  const events = await fetch(`${base}/api/events`);
  assert.equal(events.headers.get('content-type'), 'text/event-stream');
  const reader = events.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  await reader.cancel();
  const body = JSON.parse(first.replace(/^data: /, '')) as { gateway: string; series: Array<{ stream: string; points: number[][] }> };
  assert.equal(body.gateway, 'gw-http');
  assert.equal(body.series[0]?.stream, 'm2/temperature');
  assert.deepEqual(body.series[0]?.points[0]?.slice(1), [21, 0, 0], 'points as [ts, value, score, alert]');
});

test('/readyz is 503 while an input is not up, and says which and why', async (t) => {
  const { dir, cleanup } = tempDir('edgewise-ready-');
  const closed = await freePort(); // nothing listens: the MQTT client input cannot connect
  const yaml = `gateway: { id: gw-ready, data_dir: data }\ninputs:\n  - { name: plant-broker, type: mqtt, mode: client, client: { url: "mqtt://127.0.0.1:${closed}" } }\noutbox: {}\nhttp: { port: 0 }\n`;
  const { config } = parseGatewayText(yaml, join(dir, 'edgewise.yaml'), {});
  const gateway = new Gateway({ config, pipelines: [], baseDir: dir, log: silentLogger() });
  const server = new HttpServer({ settings: config.http!, gatewayId: 'gw-ready', stats: () => gateway.stats(), live: new LiveState(), started: () => true, log: silentLogger() });
  const { port } = await server.listen();
  t.after(async () => {
    await gateway.stop();
    await server.close();
    cleanup();
  });
  await gateway.start();
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  assert.equal(res.status, 503);
  const body = (await res.json()) as { ready: boolean; checks: Record<string, { ok: boolean; detail: string }> };
  assert.equal(body.checks['input:plant-broker']?.ok, false);
  assert.match(body.checks['input:plant-broker']!.detail, new RegExp(`127\\.0\\.0\\.1:${closed}`));
  assert.equal(body.checks.outbox?.ok, true);
  assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200, 'alive all the same');
});

test('/metrics stays live with the wall clock stepped back an hour (NTP on a gateway without a real-time clock)', async (t) => {
  const { base, gateway, inputUrl } = await start(t, `{ port: 0, token: ${TOKEN} }`);
  const auth = { headers: { authorization: `Bearer ${TOKEN}` } };
  const readings = async () => Number((await (await fetch(`${base}/metrics`, auth)).text()).split('\n').find((l) => l.startsWith('edgewise_readings_total '))?.split(' ').pop());
  const batch = (from: number) => Array.from({ length: 10 }, (_, i) => ({ topic: 'sensors/m1/temperature', payload: JSON.stringify({ value: 20, ts: Date.now() - 60_000 + from + i }) }));
  await publishAll(inputUrl, batch(0));
  await waitFor(async () => (await readings()) >= 10, 'the first readings in /metrics');
  const wallNow = Date.now;
  const back = wallNow() - 3_600_000;
  const started = wallNow();
  Date.now = () => back + (wallNow() - started);
  try {
    await publishAll(inputUrl, batch(100));
    await waitFor(() => gateway.stats().readings >= 20, 'the next readings at the gateway');
    // Before: the scrape's snapshot was refreshed when Date.now() had moved 250 ms past it: never, an hour back.
    await waitFor(async () => (await readings()) >= 20, '/metrics to show them with the wall clock an hour back');
  } finally {
    Date.now = wallNow;
  }
});
