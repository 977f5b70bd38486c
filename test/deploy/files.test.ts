import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DEPLOY_ENV, DEPLOY_NODE_FLAGS } from '../../bench/deploy-profile.js';
import { tempDir } from '../upstream/helpers.js';
import { freePort, waitFor } from '../runtime/helpers.js';

const CONFIG = 'deploy/balena/edgewise.yaml';

/** Run deploy/healthcheck.mjs as the container's HEALTHCHECK does (plain node, no tsx). */
function healthcheck(env: NodeJS.ProcessEnv, args: string[] = []): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['deploy/healthcheck.mjs', ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.once('exit', (code) => resolve({ code, out, err }));
  });
}

test('the shipped example config validates and starts as it is, keeps its data in the data dir it is given, and the health probe sees it', { timeout: 150_000 }, async (t) => {
  const { dir, cleanup } = tempDir('edgewise-deploy-');
  const [brokerPort, httpPort, upstreamPort] = [await freePort(), await freePort(), await freePort()];
  // The container's environment (Dockerfile ENV), with ports and the data dir moved for the test.
  const env = {
    ...process.env,
    ...DEPLOY_ENV,
    EDGEWISE_CONFIG: CONFIG,
    EDGEWISE_LOG_FORMAT: 'json',
    EDGEWISE_GATEWAY__DATA_DIR: join(dir, 'data'),
    EDGEWISE_INPUTS__0__BROKER__PORT: String(brokerPort),
    EDGEWISE_HTTP__PORT: String(httpPort),
    EDGEWISE_UPSTREAM__URL: `mqtt://127.0.0.1:${upstreamPort}`, // nothing there: the uplink is down, the gateway runs
  };
  const v = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'validate', CONFIG], { env, encoding: 'utf8' });
  assert.equal(v.status, 0, v.stdout + v.stderr);

  // The CMD of the image: node <flags> main.js run (here through tsx, from source).
  const child = spawn(process.execPath, [...DEPLOY_NODE_FLAGS, '--import', 'tsx', 'src/cli/main.ts', 'run'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
    cleanup();
  });
  await waitFor(() => log.includes('"gateway running"') || child.exitCode !== null, 'the example gateway to start', 90_000); // a bound for a broken start, as in startRuntime (tsx compiles on start: tens of seconds on a busy machine)
  assert.equal(child.exitCode, null, log);
  assert.ok(existsSync(join(dir, 'data', 'outbox.db')), 'the outbox is in the data dir it was given');

  const probeEnv = { EDGEWISE_HTTP__PORT: String(httpPort) };
  const alive = await healthcheck(probeEnv);
  assert.equal(alive.code, 0, alive.err);
  assert.match(alive.out, /"status":"ok"/);
  const ready = await healthcheck(probeEnv, ['--ready']);
  assert.equal(ready.code, 0, `ready with the uplink down (it buffers): ${ready.err}`);

  child.kill('SIGTERM');
  assert.equal(await exited, 0, log);
  const dead = await healthcheck(probeEnv);
  assert.equal(dead.code, 1);
  assert.match(dead.err, /unhealthy: no answer from http:\/\/127\.0\.0\.1:\d+\/healthz \(ECONNREFUSED\)/);
});

test('the health probe fails on a 503 from /readyz and names the failing check', async (t) => {
  const server = http.createServer((_req, res) => {
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ready: false, checks: { 'input:serial': { ok: false, detail: 'down: /dev/ttyUSB0 missing' }, outbox: { ok: true, detail: 'ok' } } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => server.close());
  const r = await healthcheck({ HEALTHCHECK_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }, ['--ready']);
  assert.equal(r.code, 1);
  assert.match(r.err, /answered 503: input:serial: down: \/dev\/ttyUSB0 missing$/m);
});

test('deploy files keep data on the volume, check health, and assume no gpio group', () => {
  const dockerfile = readFileSync('deploy/balena/Dockerfile', 'utf8');
  assert.match(dockerfile, /^\s+EDGEWISE_GATEWAY__DATA_DIR=\/data \\$/m, 'docker run without compose writes to /data too');
  assert.match(dockerfile, /^VOLUME \/data$/m);
  assert.match(dockerfile, /^COPY deploy\/healthcheck\.mjs \.\/deploy\/healthcheck\.mjs$/m);
  assert.match(dockerfile, /^HEALTHCHECK .*CMD \["node", "deploy\/healthcheck\.mjs"\]$/m);
  const unit = readFileSync('deploy/balena/edgewise.service', 'utf8');
  assert.doesNotMatch(unit.split('\n').filter((l) => !l.startsWith('#')).join('\n'), /gpio/, 'a gpio group the system may lack stops the unit');
  assert.match(unit, /^StateDirectory=edgewise$/m);
  assert.match(readFileSync(CONFIG, 'utf8'), /^\s+data_dir: \/var\/lib\/edgewise/m, 'the config default is the StateDirectory');
});

test('the compose file passes dclint (kept rules; `version` stays for balena)', () => {
  const r = spawnSync(process.execPath, ['node_modules/dclint/bin/dclint.cjs', 'deploy/balena/docker-compose.yml', '--max-warnings', '0', '--disable-rule', 'no-version-field', '--disable-rule', 'require-project-name-field', '--color', 'false'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
