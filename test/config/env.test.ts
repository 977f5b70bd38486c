import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGatewayText, parseGatewayText } from '../../src/config/load.js';
import { envName, envPath, RUNTIME_ENV_VARS } from '../../src/config/env.js';
import { formatConfigIssue } from '../../src/core/config-error.js';
import type { MqttConfig } from '../../drivers/mqtt/config.js';
import { yaml } from './helpers.js';

const BASE = yaml('gateway:', '  id: gw-1', 'inputs:', '  - type: mqtt', '    name: local', 'log:', '  level: info');

function load(env: Record<string, string>, text = BASE) {
  return parseGatewayText(text, 'edgewise.yaml', env, '/nonexistent-dir');
}

function errors(env: Record<string, string>, text = BASE): string[] {
  return checkGatewayText(text, 'edgewise.yaml', env, '/nonexistent-dir').issues.map(formatConfigIssue);
}

test('the name rule: EDGEWISE_ + path, __ between levels, indices for list items', () => {
  assert.deepEqual(envPath('EDGEWISE_GATEWAY__ID'), ['gateway', 'id']);
  assert.deepEqual(envPath('EDGEWISE_UPSTREAM__TLS__REJECT_UNAUTHORIZED'), ['upstream', 'tls', 'reject_unauthorized']);
  assert.deepEqual(envPath('EDGEWISE_INPUTS__0__BROKER__PORT'), ['inputs', 0, 'broker', 'port']);
  assert.equal(envName(['gateway', 'data_dir']), 'EDGEWISE_GATEWAY__DATA_DIR');
  for (const v of RUNTIME_ENV_VARS) assert.equal(envPath(v), undefined);
  assert.equal(envPath('PATH'), undefined);
});

test('sets a top-level section field and nested fields, with YAML-typed values', () => {
  const g = load({
    EDGEWISE_GATEWAY__ID: 'gw-7',
    EDGEWISE_LOG__LEVEL: 'debug',
    EDGEWISE_UPSTREAM__URL: 'mqtt://broker.local:1883',
    EDGEWISE_UPSTREAM__TLS__REJECT_UNAUTHORIZED: 'false',
    EDGEWISE_UPSTREAM__KEEPALIVE: '45s',
    EDGEWISE_UPSTREAM__MAX_INFLIGHT: '20',
  });
  assert.equal(g.config.gateway.id, 'gw-7');
  assert.equal(g.config.log.level, 'debug');
  assert.equal(g.config.upstream?.url, 'mqtt://broker.local:1883');
  assert.equal(g.config.upstream?.tls.reject_unauthorized, false);
  assert.equal(g.config.upstream?.keepalive, 45_000);
  assert.equal(g.config.upstream?.max_inflight, 20);
  assert.deepEqual(g.env.map((e) => e.variable).sort(), [
    'EDGEWISE_GATEWAY__ID', 'EDGEWISE_LOG__LEVEL', 'EDGEWISE_UPSTREAM__KEEPALIVE', 'EDGEWISE_UPSTREAM__MAX_INFLIGHT',
    'EDGEWISE_UPSTREAM__TLS__REJECT_UNAUTHORIZED', 'EDGEWISE_UPSTREAM__URL',
  ]);
});

test('text settings keep their text even when it reads as another YAML type', () => {
  const g = load({ EDGEWISE_GATEWAY__ID: '007', EDGEWISE_UPSTREAM__URL: 'mqtt://h:1883', EDGEWISE_UPSTREAM__PASSWORD: 'true' });
  assert.equal(g.config.gateway.id, '007');
  assert.equal(g.config.upstream?.password, 'true');
});

test('array items by index; whole values as YAML flow; index = length adds an item', () => {
  const g = load({
    EDGEWISE_INPUTS__0__BROKER__PORT: '1884',
    EDGEWISE_INPUTS__1__TYPE: 'mqtt',
    EDGEWISE_INPUTS__1__NAME: 'second',
    EDGEWISE_INPUTS__1__MODE: 'client',
    EDGEWISE_INPUTS__1__CLIENT: '{url: "mqtt://127.0.0.1:1883"}',
    EDGEWISE_PIPELINES: '[]',
  });
  // The inputs' settings are the mqtt driver's (the gateway schema types only what every input has).
  const [a, b] = g.config.inputs as unknown as Array<MqttConfig & { name: string }>;
  assert.ok(a && b, 'two inputs');
  assert.equal(a.broker?.port, 1884);
  assert.equal(b.name, 'second');
  assert.equal(b.mode, 'client');
  assert.equal(b.client?.url, 'mqtt://127.0.0.1:1883');
  assert.deepEqual(g.config.pipelines, []);
});

test('an empty value is ignored; runtime variables are not settings', () => {
  const g = load({ EDGEWISE_LOG__LEVEL: '', EDGEWISE_LOG_LEVEL: 'trace', EDGEWISE_CONFIG: 'x.yaml', EDGEWISE_LOG_FORMAT: 'json' });
  assert.equal(g.config.log.level, 'info');
});

test('a bad value names the variable', () => {
  assert.deepEqual(errors({ EDGEWISE_LOG__LEVEL: 'loud' }), [
    'env EDGEWISE_LOG__LEVEL: error: log.level: expected one of trace, debug, info, warn, error, fatal, silent, found "loud"',
  ]);
  assert.deepEqual(errors({ EDGEWISE_INPUTS__0__BROKER__PORT: 'abc' }), [
    'env EDGEWISE_INPUTS__0__BROKER__PORT: error: inputs[0].broker.port: expected an integer from 0 to 65535, found "abc"',
  ]);
  assert.deepEqual(errors({ EDGEWISE_UPSTREAM: '{url: "mqtt://h:1883", keepalive: soon}' }), [
    'env EDGEWISE_UPSTREAM: error: upstream.keepalive: expected a duration such as 500ms, 10s, 5m, 1h or 1d, found "soon"',
  ]);
});

test('a variable that names no setting is an error with a did-you-mean', () => {
  assert.deepEqual(errors({ EDGEWISE_GATWAY__ID: 'x' }), ['env EDGEWISE_GATWAY__ID: error: no setting "gatway" at the top level; did you mean EDGEWISE_GATEWAY__ID?']);
  assert.deepEqual(errors({ EDGEWISE_GATEWAY_ID: 'x' }), ['env EDGEWISE_GATEWAY_ID: error: no setting "gateway_id" at the top level; did you mean EDGEWISE_GATEWAY__ID?']);
  assert.deepEqual(errors({ EDGEWISE_INPUTS__0__PORT: '1884' }), ['env EDGEWISE_INPUTS__0__PORT: error: no setting "port" in inputs[0]; did you mean EDGEWISE_INPUTS__0__BROKER__PORT?']);
  assert.deepEqual(errors({ EDGEWISE_LOG__LEVEL__X: '1' }), ['env EDGEWISE_LOG__LEVEL__X: error: log.level is a single value, not a section; set it with EDGEWISE_LOG__LEVEL']);
  assert.deepEqual(errors({ EDGEWISE_INPUTS__5__NAME: 'x' }), ['env EDGEWISE_INPUTS__5__NAME: error: inputs has 1 item; index 5 would leave a gap (use EDGEWISE_INPUTS__1__NAME to add an item)']);
});

test('env errors and file errors are reported together; file errors keep their place', () => {
  const text = yaml('gateway:', '  id: gw-1', 'log:', '  level: info', '  formt: json');
  assert.deepEqual(errors({ EDGEWISE_LOG__LEVEL: 'loud', EDGEWISE_NOPE: '1' }, text), [
    'edgewise.yaml:5:3: error: log: unknown field "formt"; did you mean "format"?',
    'env EDGEWISE_LOG__LEVEL: error: log.level: expected one of trace, debug, info, warn, error, fatal, silent, found "loud"',
    'env EDGEWISE_NOPE: error: no setting "nope" at the top level (settings there: gateway, log, inputs, pipelines, outbox, upstream, http, stats_log, stats_upstream, reload, state)',
  ]);
});
