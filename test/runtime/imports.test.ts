import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reachable } from '../architecture/import-graph.js';

/**
 * `edgewise run` keeps only what running needs: configs are validated in a short-lived child process
 * (src/config/load-in-child.ts), so the schema library and the YAML parser (~10 MB resident)
 * must not be reachable from the modules the gateway process loads. Static imports and
 * `import()` both count (esbuild follows both).
 */
test('the running gateway does not import zod or yaml (config is validated in a child process)', async () => {
  const inputs = Object.entries((await reachable(['src/cli/run.ts', 'src/plugins.ts', 'src/runtime/gateway.ts'])).inputs);
  assert.ok(inputs.some(([f]) => f.endsWith('src/runtime/gateway.ts')) && inputs.some(([f]) => f.endsWith('drivers/mqtt/index.ts')), 'the graph covers the gateway and its drivers');
  const offenders = inputs.flatMap(([file, i]) => i.imports.filter((im) => /^(zod|yaml)(\/|$)/.test(im.path)).map((im) => `${file} imports ${im.path}`));
  assert.deepEqual(offenders, []);
  // and the check can fail: the config loader does import them
  const loader = await reachable(['src/config/load.ts']);
  const loaderImports = Object.values(loader.inputs).flatMap((i) => i.imports.map((im) => im.path));
  assert.ok(loaderImports.includes('zod') && loaderImports.includes('yaml'));
});
