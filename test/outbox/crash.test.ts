import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { checkSequences, tempDir, TestBroker, waitFor } from '../upstream/helpers.js';

const fixture = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/outbox-child.ts');

function startChild(dataDir: string, url: string, count: number, rate: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, dataDir, url, String(count), String(rate)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const state = { committed: 0, done: false, stderr: '', exited: false };
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.startsWith('committed ')) state.committed = Number(line.slice(10));
      if (line === 'done') state.done = true;
    }
  });
  child.stderr!.on('data', (d: Buffer) => (state.stderr += d.toString()));
  child.on('exit', () => (state.exited = true));
  return { child, state };
}

async function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

function storedIds(file: string): string[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT payload FROM messages').all() as { payload: Buffer }[]).map((r) => JSON.parse(r.payload.toString()).id as string);
  } finally {
    db.close();
  }
}

describe('outbox across a SIGKILL', () => {
  it('a gateway killed with SIGKILL while messages are buffered delivers every committed message after restart', { timeout: 120_000 }, async () => {
    const tmp = tempDir();
    const broker = new TestBroker();
    await broker.start();
    const children: ChildProcess[] = [];
    try {
      const a = startChild(tmp.dir, broker.url, 1_000_000, 3000);
      children.push(a.child);
      await waitFor(() => broker.messages().length >= 1000 || a.state.exited, 'first messages upstream', 60_000);
      assert.equal(a.state.exited, false, a.state.stderr);
      await broker.stop(); // the uplink goes down; the child keeps producing into the outbox
      const at = a.state.committed;
      await waitFor(() => a.state.committed >= at + 2000, 'messages buffered', 60_000);
      await kill(a.child); // SIGKILL while messages are buffered (and some in flight)

      const file = path.join(tmp.dir, 'outbox.db');
      const buffered = storedIds(file);
      assert.ok(buffered.length >= 2000, `buffered at kill: ${buffered.length}`);

      await broker.start();
      const b = startChild(tmp.dir, broker.url, 0, 0);
      children.push(b.child);
      await waitFor(() => storedIds(file).length === 0 || b.state.exited, 'backlog drained after restart', 90_000);
      assert.equal(b.state.exited, false, b.state.stderr);

      const got = new Set(broker.messages().map((m) => JSON.parse(m.payload.toString()).id as string));
      const missing = buffered.filter((id) => !got.has(id));
      assert.deepEqual(missing.slice(0, 5), [], `${missing.length} committed messages not delivered`);
      const check = checkSequences(broker.messages());
      assert.deepEqual(check.problems, [], 'per topic, seq has no gaps and duplicates share ids');

      // The Last Will: a gateway that dies says so on its status topic.
      await waitFor(() => broker.statuses.at(-1) === 'online', 'birth after restart');
      await kill(b.child);
      await waitFor(() => broker.statuses.at(-1) === 'offline', 'Last Will offline', 30_000);
    } finally {
      for (const c of children) await kill(c);
      await broker.stop();
      tmp.cleanup();
    }
  });
});
