import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reachable } from '../architecture/import-graph.js';

/** The module graph `edgewise run` can load (esbuild follows static imports and `import()`). */
async function gatewayGraph() {
  return Object.entries((await reachable(['src/cli/run.ts', 'src/plugins.ts', 'src/runtime/gateway.ts'])).inputs);
}

/**
 * `edgewise run` keeps only what running needs: configs are validated in a short-lived child process
 * (src/config/load-in-child.ts), so the schema library and the YAML parser (~10 MB resident)
 * must not be reachable from the modules the gateway process loads. Static imports and
 * `import()` both count (esbuild follows both).
 */
test('the running gateway does not import zod or yaml (config is validated in a child process)', async () => {
  const inputs = await gatewayGraph();
  assert.ok(inputs.some(([f]) => f.endsWith('src/runtime/gateway.ts')) && inputs.some(([f]) => f.endsWith('drivers/mqtt/index.ts')), 'the graph covers the gateway and its drivers');
  const offenders = inputs.flatMap(([file, i]) => i.imports.filter((im) => /^(zod|yaml)(\/|$)/.test(im.path)).map((im) => `${file} imports ${im.path}`));
  assert.deepEqual(offenders, []);
  // and the check can fail: the config loader does import them
  const loader = await reachable(['src/config/load.ts']);
  const loaderImports = Object.values(loader.inputs).flatMap((i) => i.imports.map((im) => im.path));
  assert.ok(loaderImports.includes('zod') && loaderImports.includes('yaml'));
});

/**
 * The Sparkplug codec (sparkplug-payload → protobufjs, ~7.5 MB resident) is loaded only with
 * `upstream.format: sparkplug_b` or an mqtt input with `sparkplug:`: the gateway reaches
 * src/upstream/sparkplug/ and drivers/mqtt/sparkplug.ts only through `import()`.
 */
test('the gateway imports the Sparkplug B codec lazily (only with format: sparkplug_b or an input with sparkplug:)', async () => {
  const inputs = await gatewayGraph();
  const inSparkplug = (f: string) => f.includes('src/upstream/sparkplug/') || f.endsWith('drivers/mqtt/sparkplug.ts');
  assert.ok(inputs.some(([f]) => f.includes('src/upstream/sparkplug/')), 'the graph reaches the upstream Sparkplug module (through import())');
  assert.ok(inputs.some(([f]) => f.endsWith('drivers/mqtt/sparkplug.ts')), 'the graph reaches the Sparkplug input (through import())');
  const codecUsers = inputs.filter(([, i]) => i.imports.some((im) => im.path.startsWith('sparkplug-payload'))).map(([f]) => f);
  assert.ok(codecUsers.length > 0 && codecUsers.every(inSparkplug), `only the Sparkplug modules import the codec: ${codecUsers.join(', ')}`);
  const eager = inputs.flatMap(([f, i]) => (inSparkplug(f) ? [] : i.imports.filter((im) => inSparkplug(im.path) && im.kind !== 'dynamic-import').map((im) => `${f} imports ${im.path} (${im.kind})`)));
  assert.deepEqual(eager, []);
});
