import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cycles, importGraph, moduleGraph } from './import-graph.js';
import { folderCycles, moduleEdges } from './module-graph.js';

/**
 * No import cycles at run time, between files or between modules (the folders under src/ and
 * drivers/): the composition root (src/plugins.ts) imports the plugins, nothing below imports it
 * back, so each module can be read, tested and changed from the bottom up. Type-only imports do
 * not count (they are erased). `npx tsx test/architecture/import-graph.ts` prints the cycles.
 */
test('src/ and drivers/ have no import cycles between modules or files', async () => {
  const g = await importGraph();
  assert.ok(g.size > 100 && g.has('src/plugins.ts') && g.has('drivers/mqtt/index.ts'), 'the graph covers src/ and drivers/');
  assert.deepEqual(cycles(g), [], 'file cycles');
  assert.deepEqual(cycles(moduleGraph(g)), [], 'module cycles');
});

/**
 * Counting `import type` too (the module graph of docs/architecture.md), the folders form no cycle.
 * When one appears, put the type or function where it belongs (as SchemaKit went to
 * src/core/plugin.ts, DetectorPlugin to src/detectors/types.ts, Judgement to src/core/records.ts,
 * and the upstream payload contract, which the outbox encodes and the forwarder sends, to
 * src/core/payload.ts).
 */
test('src/, drivers/ and firmware-sim/ have no folder cycles, type-only imports included', () => {
  assert.deepEqual(folderCycles(moduleEdges()), []);
});

test('the cycle finder finds a cycle', () => {
  const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]);
  assert.deepEqual(cycles(g), [['a', 'b', 'c']]);
  assert.deepEqual(cycles(moduleGraph(new Map([['src/x/a.ts', ['src/y/b.ts']], ['src/y/b.ts', ['src/x/c.ts']], ['src/x/c.ts', []]]))), [['src/x', 'src/y']]);
});
