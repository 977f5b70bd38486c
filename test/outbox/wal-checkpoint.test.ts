import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Outbox } from '../../src/outbox/index.js';
import { outboxConfig, raw, tempDir, waitFor } from '../upstream/helpers.js';

const walBytes = (dir: string) => statSync(path.join(dir, 'outbox.db-wal')).size;
const dbBytes = (dir: string) => statSync(path.join(dir, 'outbox.db')).size;

describe('outbox WAL checkpoints (outbox.wal_checkpoint)', () => {
  it('background: a worker thread copies the log into the database; the gateway connection does not checkpoint (its automatic one is only a backstop)', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const o = Outbox.open({ config: outboxConfig(), dataDir: dir, gatewayId: 'gw', log: (await import('../../src/core/log.js')).silentLogger(), walCheckpointEveryMs: 20 });
      assert.equal(o.database.pragma('wal_autocheckpoint', { simple: true }), 16_384, 'the backstop');
      const before = dbBytes(dir);
      // ~3,000 log pages: beyond SQLite's default automatic checkpoint (1,000), below the backstop.
      for (let i = 0; i < 6000; i++) o.put(raw(`d${i % 10}/r`, i, 1500));
      o.flush();
      assert.ok(walBytes(dir) > 4_000_000, `the commit left its pages in the log (${walBytes(dir)} bytes)`);
      await waitFor(() => o.stats().walCheckpoints.pages >= 1000, 'the worker checkpointed the log');
      const s = o.stats().walCheckpoints;
      assert.equal(s.background, true);
      assert.equal(s.failures, 0);
      assert.ok(dbBytes(dir) > before + 4_000_000, `the pages reached the database file (${before} → ${dbBytes(dir)} bytes)`);
      o.close();
    } finally {
      cleanup();
    }
  });

  it('close gives the space of a drained backlog back even while the worker is checkpointing (it waits for the worker instead of giving up)', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const { silentLogger } = await import('../../src/core/log.js');
      for (let round = 0; round < 5; round++) {
        // A worker that checkpoints every millisecond is almost always at work when close() comes.
        const o = Outbox.open({ config: outboxConfig(), dataDir: dir, gatewayId: 'gw', log: silentLogger(), walCheckpointEveryMs: 1 });
        for (let i = 0; i < 4000; i++) o.put(raw(`d${i % 10}/r`, i, 1500));
        o.flush();
        await waitFor(() => o.stats().walCheckpoints.runs > 0, 'the worker at work');
        for (const r of [2, 1, 0].flatMap((p) => o.readFrom(p as 0 | 1 | 2, 0, 1_000_000))) o.ack(r);
        o.flush();
        o.close();
        // The worker ends its own connection just after close() returns, and the last connection to close removes the log.
        const wal = (() => {
          try {
            return walBytes(dir);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
            throw err;
          }
        })();
        assert.ok(dbBytes(dir) < 1_000_000 && wal < 1_000_000, `round ${round}: after close the file is small (database ${dbBytes(dir)} bytes, log ${wal} bytes)`);
      }
    } finally {
      cleanup();
    }
  });

  it('the worker does not keep a process alive: a program that leaves its outbox open still exits', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const script = `
        const { Outbox } = await import(${JSON.stringify(new URL('../../src/outbox/index.ts', import.meta.url).href)});
        const { outboxConfig } = await import(${JSON.stringify(new URL('../upstream/helpers.ts', import.meta.url).href)});
        const { silentLogger } = await import(${JSON.stringify(new URL('../../src/core/log.ts', import.meta.url).href)});
        const o = Outbox.open({ config: outboxConfig(), dataDir: ${JSON.stringify(path.join(dir, 'data'))}, gatewayId: 'gw', log: silentLogger(), walCheckpointEveryMs: 10 });
        if (!o.stats().walCheckpoints.background) throw new Error('no worker');
        console.log('open');`;
      const file = path.join(dir, 'leave-open.mts');
      writeFileSync(file, script);
      const child = spawn(process.execPath, ['--import', 'tsx', file], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const hang = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
      clearTimeout(hang);
      assert.equal(out.trim(), 'open');
      assert.equal(signal, null, 'it exited by itself (killed only if it hung)');
      assert.equal(code, 0);
    } finally {
      cleanup();
    }
  });

  it('inline: no worker, SQLite checkpoints inside the commit as usual', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const o = Outbox.open({ config: outboxConfig({ wal_checkpoint: 'inline' }), dataDir: dir, gatewayId: 'gw', log: (await import('../../src/core/log.js')).silentLogger() });
      assert.equal(o.database.pragma('wal_autocheckpoint', { simple: true }), 1000);
      assert.equal(o.stats().walCheckpoints.background, false);
      o.close();
    } finally {
      cleanup();
    }
  });
});
