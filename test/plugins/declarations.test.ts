import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { gatewayConfigSchema } from '../../src/config/gateway.js';
import { pipelineSchema } from '../../src/config/pipeline.js';
import { PluginSet, type Plugin } from '../../src/plugin-set.js';
import { builtinPlugins } from '../../src/plugins.js';

/** A pipeline around one step, as a sample would be used. */
function pipelineWith(step: Record<string, unknown>) {
  return { name: 'sample', input: { streams: ['**'] }, steps: [step, { output: 'out' }] };
}

for (const p of builtinPlugins.all()) {
  test(`the sample config of ${p.type} "${p.kind}" validates against its schema`, () => {
    const sample = parse(p.sample);
    const r = p.type === 'driver'
      ? gatewayConfigSchema().safeParse({ gateway: { id: 'gw' }, ...sample })
      : pipelineSchema().safeParse(pipelineWith(p.type === 'detector' ? { detect: sample } : { [p.kind]: sample }));
    assert.equal(r.success, true, JSON.stringify(r.error?.issues));
    if (p.type === 'driver') assert.ok((sample.inputs as Array<{ type: string }>).every((i) => i.type === p.kind), 'a driver sample shows its own kind');
    if (p.type === 'detector') assert.equal(sample.detector, p.kind);
  });
}

test('a kind declared twice throws, for every plugin type', () => {
  for (const p of builtinPlugins.all()) {
    assert.throws(() => builtinPlugins.with(p), new RegExp(`${p.type} kind "${p.kind}" is declared twice`));
  }
  // the same kind under two types is fine (a driver and a detector may share a name)
  const driver = builtinPlugins.drivers()[0]!;
  assert.doesNotThrow(() => new PluginSet([driver, { ...builtinPlugins.detectors()[0]!, kind: driver.kind }]));
});

test('an operator cannot take a built-in step key', () => {
  const op = builtinPlugins.operators()[0]!;
  for (const kind of ['filter', 'map', 'window', 'detect', 'output', 'streams']) {
    assert.throws(() => new PluginSet([{ ...op, kind } as Plugin]), /built-in step key/);
  }
});

test('schemas and docs come from the plugin set: a kind not in the set is refused', () => {
  const withoutThreshold = new PluginSet(builtinPlugins.all().filter((p) => p.kind !== 'threshold'));
  const step = { detect: { detector: 'threshold', above: 1 } };
  assert.equal(pipelineSchema().safeParse(pipelineWith(step)).success, true);
  assert.equal(pipelineSchema(withoutThreshold).safeParse(pipelineWith(step)).success, false);
  const noMqtt = new PluginSet(builtinPlugins.all().filter((p) => p.kind !== 'mqtt'));
  const gw = { gateway: { id: 'gw' }, inputs: [{ type: 'mqtt', name: 'm' }] };
  assert.equal(gatewayConfigSchema().safeParse(gw).success, true);
  assert.equal(gatewayConfigSchema(noMqtt).safeParse(gw).success, false);
});
