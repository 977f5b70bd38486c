/**
 * docs/asyncapi.yaml is a valid AsyncAPI 3 document (the official parser), and what a real gateway
 * publishes to a real broker matches it: every captured topic matches one channel's address and
 * its payload the schema of that channel's message. Drift from the code: test/config/generated.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Parser } from '@asyncapi/parser';
import { Ajv } from 'ajv';
import { parseGatewayText } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/log.js';
import { Gateway } from '../../src/runtime/gateway.js';
import { freePort, publishAll } from '../runtime/helpers.js';
import { TestBroker, tempDir, waitFor } from './helpers.js';

const ROOT = join(import.meta.dirname, '../..');

async function parsedContract() {
  const { document, diagnostics } = await new Parser().parse(readFileSync(join(ROOT, 'docs/asyncapi.yaml'), 'utf8'));
  const errors = diagnostics.filter((d) => d.severity === 0).map((d) => `${d.path.join('.')}: ${d.message}`);
  assert.deepEqual(errors, [], 'the AsyncAPI parser reports errors');
  assert.ok(document);
  return document;
}

test('docs/asyncapi.yaml parses as AsyncAPI 3 with a channel, QoS 1 send operation and payload schema per topic', async () => {
  const doc = await parsedContract();
  assert.equal(doc.version(), '3.0.0');
  const addresses = doc.channels().all().map((c) => c.address());
  assert.deepEqual(addresses.sort(), ['{prefix}/{gateway}/aggregate/{stream}', '{prefix}/{gateway}/alert/{stream}', '{prefix}/{gateway}/late/{stream}', '{prefix}/{gateway}/reading/{stream}', '{prefix}/{gateway}/status', '{prefix}/{gateway}/batch', '{prefix}/{gateway}/batch/{compression}'].sort());
  for (const op of doc.operations().all()) {
    const mqtt = op.bindings().get('mqtt')?.value() as { qos: number; retain: boolean };
    assert.equal(mqtt.qos, 1, `${op.id()}: QoS 1`);
    assert.equal(mqtt.retain, op.id() === 'send_status', `${op.id()}: only status is retained`);
    assert.match(op.description() ?? doc.info().description() ?? '', /\(gateway, id\)/, 'the dedupe rule is stated');
  }
  for (const m of doc.messages().all()) assert.equal(m.payload()?.type(), 'object', `${m.id()} has an object payload schema`);
});

const PIPELINE = `
name: contract
input:
  streams: ["*/temperature"]
steps:
  - output: raw
  - detect: { detector: threshold, above: 25 }
  - window: { type: tumbling, size: 1s, aggregates: [count, mean, max, p95] }
  - output: upstream
`;

test('what a real gateway publishes to a real broker matches docs/asyncapi.yaml (topics and payloads)', async (t) => {
  const doc = await parsedContract();
  const ajv = new Ajv({ strict: false, allErrors: true });
  const channels = doc.channels().all().map((c) => {
    const re = new RegExp(`^${c.address()!.replace('{prefix}', 'edgewise/v1').replace('{gateway}', '[^/]+').replace('{stream}', '.+').replace('{compression}', '(gzip|deflate|brotli)')}$`);
    const schema = c.messages().all()[0]!.payload()!.json();
    return { address: c.address()!, re, validate: ajv.compile(schema) };
  });
  const { dir, cleanup } = tempDir('edgewise-contract-');
  const upstream = new TestBroker();
  await upstream.start();
  const inputPort = await freePort();
  writeFileSync(join(dir, 'contract.yaml'), PIPELINE);
  const yaml = `
gateway: { id: gw-contract, data_dir: data }
inputs:
  - { name: local, type: mqtt, broker: { port: ${inputPort} } }
pipelines: [contract.yaml]
outbox: { commit_interval: 10ms }
upstream: { url: "${upstream.url}", reconnect_min: 100ms, reconnect_max: 500ms }
`;
  const loaded = parseGatewayText(yaml, join(dir, 'edgewise.yaml'), {}, dir);
  const gw = new Gateway({ config: loaded.config, pipelines: loaded.pipelines.map((p) => p.spec), baseDir: dir, log: silentLogger() });
  t.after(async () => {
    await gw.stop();
    await upstream.stop();
    cleanup();
  });
  await gw.start();
  const t0 = Date.now() - 10_000;
  const readings = [];
  for (let i = 0; i < 30; i++) readings.push({ topic: `sensors/m${i % 2}/temperature`, payload: JSON.stringify({ value: i > 20 ? 30 : 20 + (i % 3), ts: t0 + i * 100 }) });
  await publishAll(`mqtt://127.0.0.1:${inputPort}`, readings);
  await gw.stop();
  await waitFor(() => upstream.received.filter((r) => r.topic.endsWith('/status')).length >= 2, 'birth and offline status');
  await waitFor(() => new Set(upstream.messages().map((m) => JSON.parse(m.payload.toString()).kind)).size >= 3, 'readings, aggregates and alerts upstream');
  const kinds = new Map<string, number>();
  for (const m of upstream.received) {
    const matching = channels.filter((c) => c.re.test(m.topic));
    assert.equal(matching.length, 1, `${m.topic} matches exactly one channel (got ${matching.map((c) => c.address).join(', ') || 'none'})`);
    const c = matching[0]!;
    const payload = JSON.parse(m.payload.toString());
    assert.ok(c.validate(payload), `${m.topic}: ${ajv.errorsText(c.validate.errors)}\n${m.payload}`);
    kinds.set(c.address, (kinds.get(c.address) ?? 0) + 1);
  }
  for (const a of ['aggregate', 'alert', 'reading', 'status']) assert.ok([...kinds.keys()].some((k) => k.includes(`/${a}`)), `captured at least one ${a}: ${JSON.stringify([...kinds])}`);
});
