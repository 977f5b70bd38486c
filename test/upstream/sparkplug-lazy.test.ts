import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * The Sparkplug codec (sparkplug-payload → protobufjs) is loaded only when `upstream.format:
 * sparkplug_b` is used: the running gateway reaches src/upstream/sparkplug/ only through `import()`.
 */
test('the gateway imports the Sparkplug B codec lazily (only with format: sparkplug_b)', async () => {
  const r = await build({
    entryPoints: ['src/cli/run.ts', 'src/runtime/gateway.ts'].map((f) => resolve(ROOT, f)),
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outdir: 'out',
    logLevel: 'silent',
  });
  const inputs = Object.entries(r.metafile.inputs);
  const inSparkplug = (f: string) => f.includes('src/upstream/sparkplug/');
  assert.ok(inputs.some(([f]) => inSparkplug(f)), 'the graph reaches the Sparkplug module (through import())');
  const codecUsers = inputs.filter(([, i]) => i.imports.some((im) => im.path.startsWith('sparkplug-payload'))).map(([f]) => f);
  assert.ok(codecUsers.length > 0 && codecUsers.every(inSparkplug), `only src/upstream/sparkplug/ imports the codec: ${codecUsers.join(', ')}`);
  const eager = inputs.flatMap(([f, i]) => (inSparkplug(f) ? [] : i.imports.filter((im) => inSparkplug(im.path) && im.kind !== 'dynamic-import').map((im) => `${f} imports ${im.path} (${im.kind})`)));
  assert.deepEqual(eager, []);
});
