/**
 * Where the old generation's garbage comes from: objects that survived V8's young generation and
 * died in a full GC (promoted, then collected). Held for tens of milliseconds at thousands of
 * readings a second, an object is promoted and churns the old space: RSS and GC time.
 *
 * As a preload of the process to study (V8's sampling heap profiler, keeping the samples of objects
 * a full GC collected but not those a scavenge did):
 *   PEERS_EDGEWISE_NODE_FLAGS="--max-semi-space-size=1 --heap-growing-percent=20 --single-threaded-gc --import $PWD/bench/promoted-garbage.mjs" \
 *     npx tsx bench/peers/run.ts --rates 20000 --seconds 20 --reps 1 --systems edgewise-embedded
 * It samples from 8 s after the start for 12 s (PROMOTED_START_S, PROMOTED_SECONDS) and writes
 * PROMOTED_OUT (default $TMPDIR/promoted.heapprofile). Then, to read it:
 *   node bench/promoted-garbage.mjs [FILE]
 * prints the sampled MB by allocating function and by its callers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const out = process.env.PROMOTED_OUT ?? join(os.tmpdir(), 'promoted.heapprofile');

if (process.argv[1] === fileURLToPath(import.meta.url)) summarise(process.argv[2] ?? out);
else sample();

function sample() {
  const session = new Session();
  session.connect();
  const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (err, r) => (err ? reject(err) : resolve(r))));
  const startS = Number(process.env.PROMOTED_START_S ?? 8);
  const seconds = Number(process.env.PROMOTED_SECONDS ?? 12);
  setTimeout(async () => {
    await post('HeapProfiler.enable');
    await post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: false });
    setTimeout(async () => {
      const { profile } = await post('HeapProfiler.stopSampling');
      writeFileSync(out, JSON.stringify(profile));
    }, seconds * 1000).unref();
  }, startS * 1000).unref();
}

function summarise(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byFunction = new Map();
  const byStack = new Map();
  let total = 0;
  const walk = (node, path) => {
    const f = node.callFrame;
    const name = `${f.functionName || '(anonymous)'} ${f.url.replace(/.*\//, '')}:${f.lineNumber + 1}`;
    const here = [...path, name];
    if (node.selfSize > 0) {
      total += node.selfSize;
      byFunction.set(name, (byFunction.get(name) ?? 0) + node.selfSize);
      const stack = here.slice(-5).reverse().join(' < ');
      byStack.set(stack, (byStack.get(stack) ?? 0) + node.selfSize);
    }
    for (const c of node.children) walk(c, here);
  };
  walk(profile.head, []);
  const mb = (b) => (b / 1048576).toFixed(2).padStart(7);
  console.log(`${mb(total)} MB promoted and collected (sampled), ${file}`);
  console.log('by allocating function:');
  for (const [k, v] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${mb(v)}  ${k}`);
  console.log('by stack (allocating function first):');
  for (const [k, v] of [...byStack].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`${mb(v)}  ${k}`);
}
