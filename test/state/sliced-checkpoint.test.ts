import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { tempDir } from '../upstream/helpers.js';
import { feed, messages, open, readings, type KillPoint } from './sliced-run.js';

const child = fileURLToPath(new URL('./sliced-run.ts', import.meta.url));

/** The same readings without a crash: what upstream must get. */
async function reference(): Promise<ReturnType<typeof messages>> {
  const { dir, cleanup } = tempDir('edgewise-sliced-ref-');
  try {
    const g = open(dir);
    await feed(g, readings(), 0);
    g.keeper.close();
    g.outbox.close();
    return messages(dir);
  } finally {
    cleanup();
  }
}

/** Rows of the checkpoint generations in the file: the live one and any other (being written, or garbage). */
function generations(dir: string): { live: number; others: number } {
  const db = new Database(join(dir, 'outbox.db'), { readonly: true });
  try {
    const live = Number(db.prepare("SELECT v FROM meta WHERE k = 'checkpoint_gen'").pluck().get());
    return { live, others: db.prepare('SELECT count(*) FROM state WHERE gen <> ?').pluck().get(live) as number };
  } finally {
    db.close();
  }
}

const points: Array<{ kill: KillPoint; what: string }> = [
  { kill: { slice: 1 }, what: 'after its first slice' },
  { kill: { slice: 5 }, what: 'between two slices in the middle' },
  { kill: 'live', what: 'right after it went live, before the old rows were deleted' },
];

test('a checkpoint written in slices restores exactly: SIGKILLs between slices give what an uninterrupted run sends, same ids, no seq gap, no copy', { timeout: 120_000 }, async (t) => {
  const expected = await reference();
  assert.ok(expected.filter((m) => m.kind === 'aggregate').length > 3_000 && expected.some((m) => m.kind === 'alert'), 'windows and alerts to compare');
  for (const { kill, what } of points) {
    await t.test(`SIGKILL ${what}`, async () => {
      const { dir, cleanup } = tempDir('edgewise-sliced-');
      try {
        const proc = spawn(process.execPath, ['--import', 'tsx', child, dir, JSON.stringify(kill)], { stdio: ['ignore', 'inherit', 'inherit'] });
        const signal = await new Promise<NodeJS.Signals | null>((resolve) => proc.on('exit', (_code, sig) => resolve(sig)));
        assert.equal(signal, 'SIGKILL', 'the child reached its kill point');
        // The kill landed where it should: rows of another generation beside the live one.
        const gens = generations(dir);
        assert.ok(gens.others > 0, `rows of a generation other than the live one (${JSON.stringify(gens)})`);
        // Restart: restore the live checkpoint, replay the journal, then the readings the journal did not have (resent).
        const g = open(dir);
        const restored = g.keeper.stats().restored;
        assert.equal(restored.failed, 0);
        assert.ok(restored.replayed > 0, 'journal entries replayed');
        await feed(g, readings(), g.keeper.journal!.position);
        g.keeper.close();
        g.outbox.close();
        const got = messages(dir);
        const ids = new Set<string>();
        for (const m of got) {
          assert.ok(!ids.has(m.id), `one copy of ${m.id}`);
          ids.add(m.id);
        }
        const strip = (ms: typeof got) => ms.map(({ seq: _seq, ...m }) => JSON.stringify(m)).sort();
        assert.deepEqual(strip(got), strip(expected));
        // seq: 1, 2, 3, ... per topic, no gap.
        const last = new Map<string, number>();
        for (const m of got) {
          const key = `${m.kind}/${m.stream}`;
          assert.equal(m.seq, (last.get(key) ?? 0) + 1, `seq of ${key}`);
          last.set(key, m.seq);
        }
      } finally {
        cleanup();
      }
    });
  }
});
