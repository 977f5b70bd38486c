import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import '../../src/cli/plugins.js';
import { loadGatewayFile } from '../../src/config/load.js';

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
