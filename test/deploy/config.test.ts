import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadGatewayFile } from '../../src/config/load.js';
import { DEPLOY_ENV, DEPLOY_NODE_FLAGS } from '../../bench/deploy-profile.js';

const CONFIG = 'deploy/balena/edgewise.yaml';

test('the deployed gateway config validates, and its pipelines load', () => {
  const g = loadGatewayFile(CONFIG, {});
  assert.equal(g.config.gateway.id, 'edgewise-gateway');
  assert.ok(g.pipelines.length >= 1);
});

test('balena device variables configure it (as the compose file and docs say)', () => {
  const g = loadGatewayFile(CONFIG, { EDGEWISE_GATEWAY__ID: 'van-17', EDGEWISE_GATEWAY__DATA_DIR: '/data', EDGEWISE_UPSTREAM__URL: 'mqtts://broker.example.com:8883' });
  assert.equal(g.config.gateway.id, 'van-17');
  assert.equal(g.config.gateway.data_dir, '/data');
  assert.equal(g.config.upstream?.url, 'mqtts://broker.example.com:8883');
});

test('the container starts `edgewise run` with the config the image ships', () => {
  const dockerfile = readFileSync('deploy/balena/Dockerfile', 'utf8');
  assert.match(dockerfile, /EDGEWISE_CONFIG=\/app\/deploy\/balena\/edgewise\.yaml/);
  assert.match(dockerfile, /COPY deploy\/balena\/edgewise\.yaml \.\/deploy\/balena\/edgewise\.yaml/);
  assert.match(dockerfile, /"dist\/src\/cli\/main\.js", "run"\]/);
  const compose = readFileSync('deploy/balena/docker-compose.yml', 'utf8');
  assert.match(compose, /EDGEWISE_GATEWAY__DATA_DIR: \/data/);
  assert.match(compose, /edgewise-data:\/data/);
});

test('the deploy files start Node with the flags and environment the benchmarks measured', () => {
  const dockerfile = readFileSync('deploy/balena/Dockerfile', 'utf8');
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
  assert.deepEqual(cmd, ['node', ...DEPLOY_NODE_FLAGS, 'dist/src/cli/main.js', 'run']);
  const unit = readFileSync('deploy/balena/edgewise.service', 'utf8');
  assert.equal(/^ExecStart=(.*)$/m.exec(unit)![1], ['/usr/bin/node', ...DEPLOY_NODE_FLAGS, 'dist/src/cli/main.js', 'run'].join(' '));
  for (const [k, v] of Object.entries(DEPLOY_ENV)) {
    assert.match(dockerfile, new RegExp(`^\\s+${k}=${v}( \\\\)?$`, 'm'), `Dockerfile ENV ${k}=${v}`);
    assert.match(unit, new RegExp(`^Environment=${k}=${v}$`, 'm'), `systemd Environment=${k}=${v}`);
  }
});

test('the Node flags of the deploy files are accepted by this Node', () => {
  const r = spawnSync(process.execPath, [...DEPLOY_NODE_FLAGS, '-e', 'process.exit(7)']);
  assert.equal(r.status, 7, r.stderr.toString());
});

