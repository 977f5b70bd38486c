import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DOC, folderCycles, renderedDoc } from './module-graph.js';

test('docs/architecture.md shows the module graph as the imports are (npm run docs:graph)', () => {
  const committed = readFileSync(DOC, 'utf8');
  assert.ok(committed === renderedDoc(committed), 'docs/architecture.md: the module graph is stale; run `npm run docs:graph` and commit the result');
});

test('cycles: folders that reach each other are one cycle; a one-way edge is none', () => {
  const e = (from: string, to: string) => ({ from, to, dynamic: false });
  assert.deepEqual(folderCycles([e('a', 'b'), e('b', 'c'), e('c', 'a'), e('c', 'd')]), [['a', 'b', 'c']]);
  assert.deepEqual(folderCycles([e('a', 'b'), e('b', 'c')]), []);
});
