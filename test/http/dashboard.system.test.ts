import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { tempDir } from '../upstream/helpers.js';
import { freePort, startRuntime, waitFor } from '../runtime/helpers.js';

// Needs Debian's chromium (.ci/run installs it). UPDATE_SCREENSHOTS=1 refreshes docs/img/dashboard.png.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TOKEN = 'dashboard-token-0123456789';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];

/** Run the simulator to completion (simulated time, as fast as the gateway takes it). */
function simulate(args: string[]): Promise<string> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'sim', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.once('exit', (code) => (code === 0 ? ok(out) : fail(new Error(`sim exited with ${code}:\n${out}`))));
  });
}

test('dashboard in headless Chromium: an alert the simulator causes appears on the page, with its explanation', { timeout: 120_000 }, async (t) => {
  const { dir, cleanup } = tempDir('edgewise-dashboard-');
  const inputPort = await freePort();
  const httpPort = await freePort();
  const cfg = join(dir, 'edgewise.yaml');
  // The demo's pipeline, its alerts held until the end of the run: the page must show one, whichever
  // of the simulated faults raised it (a cleared alert leaves the active list).
  const pipeline = join(dir, 'demo-maintenance.yaml');
  const demo = readFileSync(resolve('pipelines/examples/demo-maintenance.yaml'), 'utf8');
  assert.ok(demo.includes('alert: { severity: warning }'), 'the demo pipeline still declares its alert as this test expects');
  writeFileSync(pipeline, demo.replace('alert: { severity: warning }', 'alert: { severity: warning, clear_readings: 1000000 }'));
  writeFileSync(
    cfg,
    `gateway: { id: pump-station-7, data_dir: data }
inputs:
  - { name: plant-mqtt, type: mqtt, topics: ["sensors/{device}/{metric}"], broker: { port: ${inputPort} } }
pipelines: [${pipeline}]
outbox: {}
http: { port: ${httpPort}, token: ${TOKEN} }
`,
  );
  const rt = await startRuntime(cfg);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  t.after(async () => {
    await browser.close();
    if (rt.child.exitCode === null) rt.child.kill('SIGKILL');
    cleanup();
  });

  // 15 minutes of two pumps with faults (a bearing heating up among them), ending 5 minutes ago.
  const start = new Date(Date.now() - 20 * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const simOut = await simulate(['--broker', `mqtt://127.0.0.1:${inputPort}`, '--domain', 'maintenance', '--devices', '2', '--rate', '1', '--duration', '15m', '--seed', '1', '--fast', '--start', start]);
  const published = Number(/(\d+) MQTT publishes/.exec(simOut)?.[1]);
  assert.ok(published > 0, simOut);

  const base = `http://127.0.0.1:${httpPort}`;
  type Status = { stats: { inputs: Array<{ name: string; counters: Record<string, number> }> }; alerts: { active: Array<{ id: string; stream: string; reason?: string }> } };
  const getStatus = async () => (await (await fetch(`${base}/api/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as Status;
  // The simulator publishes at QoS 0 and exits once its socket is flushed: the gateway may still be
  // reading the tail (where a fault's alert may be raised). Read the alerts once it took every message.
  let status = await getStatus();
  const taken = (s: Status) => s.stats.inputs.find((i) => i.name === 'plant-mqtt')?.counters.messages ?? 0;
  await waitFor(async () => taken((status = await getStatus())) >= published, () => `the gateway to take the simulator's ${published} messages (took ${taken(status)})`, 30_000, 50);
  assert.ok(status.alerts.active.length >= 1, 'the simulated fault raised an alert');

  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  await page.goto(`${base}/?token=${TOKEN}`); // behind a token, as on a gateway open to the LAN
  const first = status.alerts.active[0]!;
  const card = page.locator(`[data-alert-id="${first.id}"]`);
  await card.waitFor({ timeout: 20_000 });
  const text = await card.innerText();
  assert.ok(text.includes(first.stream), text);
  assert.ok(text.includes(`rule: ${first.reason}`), `the rule that fired is shown: ${text}`);
  assert.match(text, /baseline \d/, 'the baseline is shown');
  assert.equal(await page.locator('#alert-count').innerText(), String(status.alerts.active.length));
  assert.ok((await page.locator('.chart canvas').count()) >= 12, 'a chart per stream the detector judges');
  assert.ok((await page.locator('.chart.alerting').count()) >= 1, 'the alerting stream is marked');
  assert.match(await page.locator('#inputs').innerText(), /plant-mqtt\s+mqtt\s+up/);
  // each pipeline's streams still in their detector's warm-up (no alert can come from them yet)
  assert.equal((await page.locator('#pipelines th').allTextContents()).at(-1), 'learning');
  const pipes = (status.stats as unknown as { pipelines: Array<{ detectors: Array<{ streams: number; learning: number }> }> }).pipelines;
  assert.ok(pipes[0]!.detectors.length > 0 && pipes[0]!.detectors.every((d) => d.streams > 0), JSON.stringify(pipes[0]!.detectors));
  assert.equal((await page.locator('#pipelines tbody tr').first().locator('td').allTextContents()).at(-1), String(pipes[0]!.detectors.reduce((n, d) => n + d.learning, 0)));
  // On a phone: nothing wider than the screen but the tables' own scroll boxes.
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await phone.goto(`${base}/?token=${TOKEN}`);
  await phone.locator('.alert').first().waitFor({ timeout: 20_000 });
  assert.ok(await phone.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), 'no sideways scrolling on a phone');

  // What an operator must act on in the uplink (records kept back, another gateway with this id, a
  // refused opening step) is rare and takes a broker with rules to cause: the page gets the real
  // status with such an uplink in it (the runtime's counting of these is tested in test/upstream).
  const real = (await (await fetch(`${base}/api/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { stats: Record<string, unknown> };
  const uplink = { state: 'online', sent: 120, acked: 117, inFlight: 3, connects: 4, reconnects: 3, tooLarge: 2, quarantined: 1, probing: true, sameId: 5, refused: ['NCMD subscription <spBv1.0/plant/NCMD/pump-station-7>'] };
  // ...and an operator step's rows (where each vehicle stands), which the demo's pipeline has none of
  const steps = [{ pipeline: 'vans', step: 'telematics', total: 60, rows: [{ vehicle: 'van-<7>', source: 'imu', forward: 'gyro', forwardAxis: [0.12345, -0.99, 0], active: [] }] }];
  const troubled = { ...real, stats: { ...real.stats, upstream: uplink }, steps, series: [] };
  const uplinkPage = await browser.newPage();
  // One event, then the stream ends (the page says "disconnected — retrying" and asks again).
  await uplinkPage.route('**/api/events*', (route) => route.fulfill({ status: 200, headers: { 'content-type': 'text/event-stream' }, body: `data: ${JSON.stringify(troubled)}\n\n` }));
  await uplinkPage.goto(`${base}/?token=${TOKEN}`);
  await uplinkPage.locator('body[data-updated]').waitFor({ timeout: 20_000 });
  const outboxText = (await uplinkPage.locator('#outbox').textContent()) ?? '';
  assert.match(outboxText, /kept back\s*3 \(over the packet limit 2, refused 1\)/, outboxText);
  assert.match(outboxText, /probing\s*one record at a time/, outboxText);
  assert.match(outboxText, /same gateway id\s*another gateway uses it \(5 signs\)/, outboxText);
  assert.match(outboxText, /refused\s*NCMD subscription <spBv1\.0\/plant\/NCMD\/pump-station-7>/, 'a topic is shown as text, not taken for markup');
  assert.equal(await uplinkPage.locator('#steps-section h3').textContent(), 'vans · telematics (the first 1 of 60)');
  assert.deepEqual(await uplinkPage.locator('#steps-section th').allTextContents(), ['vehicle', 'source', 'forward', 'forwardAxis', 'active']);
  assert.deepEqual(await uplinkPage.locator('#steps-section td').allTextContents(), ['van-<7>', 'imu', 'gyro', '0.123 -0.99 0', '–'], 'a name is shown as text, numbers to 3 decimals');
  assert.equal(await page.locator('#steps-section').isHidden(), true, 'no operator step: no section');
  await uplinkPage.close();

  const shot = process.env.UPDATE_SCREENSHOTS === '1' ? resolve('docs/img/dashboard.png') : join(dir, 'dashboard.png');
  mkdirSync(join(shot, '..'), { recursive: true });
  await page.waitForTimeout(1500); // a second update draws the rates
  await page.screenshot({ path: shot, fullPage: true });

  rt.child.kill('SIGTERM');
  assert.equal(await rt.exited, 0, rt.output());
});
