import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, loadGatewayFile } from '../../src/config/load.js';
import { loadGatewayFileInChild } from '../../src/config/load-in-child.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** A gateway with every input kind, upstream without an outbox section, and the domain pipelines (detect, join, news2). */
function fullConfig(dir: string): string {
  const file = join(dir, 'edgewise.yaml');
  writeFileSync(
    file,
    `gateway: { id: worker-gw, data_dir: data }
inputs:
  - { type: mqtt, name: local, topics: ["sensors/{device}/{metric}"], broker: { port: 0, max_packet_size: 64KB } }
  - { type: serial, name: gps, path: /dev/ttyUSB0, format: nmea }
  - { type: gpio, name: io, backend: simulated, inputs: [{ pin: 17, name: door, debounce: 20ms }] }
pipelines: [${ROOT}/pipelines/*.yaml]
upstream: { url: "mqtt://127.0.0.1:1883", keepalive: 15s }
`,
  );
  return file;
}

test('the config loaded in a child process is what loading in-process gives, to the last field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-child-'));
  try {
    const env = { EDGEWISE_GATEWAY__ID: 'from-env' };
    for (const file of [fullConfig(dir), join(ROOT, 'deploy/balena/edgewise.yaml')]) {
      const here = loadGatewayFile(file, env);
      const there = await loadGatewayFileInChild(file, env);
      assert.deepStrictEqual(there, here);
      assert.equal(there.config.gateway.id, 'from-env');
    }
    const full = await loadGatewayFileInChild(join(dir, 'edgewise.yaml'), {});
    assert.ok(full.pipelines.length >= 3, 'the domain pipelines load');
    // upstream without an outbox section: the outbox defaults are filled in by the schema
    assert.equal(full.config.outbox?.path, 'outbox.db');
    assert.equal(full.config.upstream?.keepalive, 15_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('config errors come back from the child process as the same ConfigError, every issue with its place', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-child-'));
  try {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'gateway: { id: t }\ninputs:\n  - { type: mqtt, name: d, topcs: [a] }\npipelines: [nope.yaml]\n');
    const inProcess = (() => {
      try {
        loadGatewayFile(file, {});
      } catch (err) {
        return err as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    await assert.rejects(loadGatewayFileInChild(file, {}), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepStrictEqual(err.issues, inProcess.issues);
      assert.equal(err.message, inProcess.message);
      assert.match(err.message, /bad\.yaml:3:\d+: error: inputs\[0\]: unknown field "topcs"; did you mean "topics"\?/);
      assert.match(err.message, /pipeline file .*nope\.yaml: no such file/);
      return true;
    });
    await assert.rejects(loadGatewayFileInChild(join(dir, 'missing.yaml'), {}), (err: unknown) => err instanceof ConfigError && /cannot read: no such file/.test(err.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
