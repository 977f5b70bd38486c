/**
 * The outbox's parts, each alone (src/outbox/*.ts): the sequence keys, the bounds, the memory
 * hold, dead letters, the transaction parts, the drops and moving a corrupt file aside. Real
 * SQLite (in memory or in a temp dir), no mocks. The Outbox as a whole: outbox.test.ts.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { silentLogger } from '../../src/core/log.js';
import type { Priority } from '../../src/core/records.js';
import { DEAD_LETTER_MAX_ROWS, DeadLetters } from '../../src/outbox/dead-letters.js';
import { MemoryHold } from '../../src/outbox/disk-full.js';
import { OutboxDrops } from '../../src/outbox/drops.js';
import { KeyRegistry } from '../../src/outbox/keys.js';
import { Outbox } from '../../src/outbox/index.js';
import { moveAside } from '../../src/outbox/recovery.js';
import { Retention, Tally } from '../../src/outbox/retention.js';
import { OutboxStore } from '../../src/outbox/store.js';
import { TxParts } from '../../src/outbox/tx-parts.js';
import { ROW_OVERHEAD, type KeyState, type PendingMsg } from '../../src/outbox/types.js';
import { aggregate, outboxConfig, tempDir } from '../upstream/helpers.js';

let nextId = 1;
function msg(key: KeyState, priority: Priority, payloadBytes: number, created = 0): PendingMsg {
  return { id: nextId++, msgId: `m${nextId}`, priority, key, seq: ++key.lastSeq, created, payload: Buffer.alloc(payloadBytes, 'x') };
}

function memoryStore() {
  return OutboxStore.open(':memory:', { durability: 'normal', quickCheck: false });
}

describe('outbox parts', () => {
  it('keys: a commit saves only its own keys while more slices follow, every changed key otherwise', () => {
    const keys = new KeyRegistry();
    const a = keys.keyFor('aggregate', 'a/t', 0);
    const b = keys.keyFor('aggregate', 'b/t', 0);
    assert.equal(keys.keyFor('aggregate', 'a/t', 0), a, 'one key per topic');
    const batch = [1, 2, 3].map(() => ({ key: a, seq: keys.nextSeq(a) }) as PendingMsg);
    keys.nextSeq(b);
    const slice = keys.seqsToSave(batch.slice(0, 2), true);
    assert.deepEqual([...slice].map(([k, s]) => [k.stream, s]), [['a/t', 2]], 'only the slice, with its last seq');
    keys.markSaved(slice);
    assert.equal(keys.seqsToSave([], false).get(a), 3, 'seq 3 is not saved yet');
    const last = keys.seqsToSave(batch.slice(2), false);
    assert.deepEqual([...last].map(([k, s]) => [k.stream, s]), [['a/t', 3], ['b/t', 1]]);
    keys.markSaved(last);
    assert.equal(keys.seqsToSave([], false).size, 0, 'every key saved');
    keys.applyCommitted(new Map([[a, 3]]), batch.map((m, i) => ({ ...m, id: 10 + i })));
    assert.deepEqual([...keys.withRows()], [[a.id, 12]], 'keys with rows and their newest row id');
  });

  it('retention: makes room lowest priority first, oldest first, then refuses the batch; drops by age', () => {
    const { store } = memoryStore();
    try {
      const keys = new KeyRegistry();
      const k = keys.keyFor('aggregate', 'd/t', 0);
      const rows = [msg(k, 0, 100, 1), msg(k, 0, 100, 2), msg(k, 1, 100, 3), msg(k, 2, 100, 4)];
      for (const m of rows) store.insert(m);
      const bytes = (n: number) => n * (100 + ROW_OVERHEAD);
      const tally = new Tally([2, 1, 1], [bytes(2), bytes(1), bytes(1)]);
      const bounds = new Retention(store, keys, tally);
      const room = 4 * (100 + ROW_OVERHEAD);
      const batch = [msg(k, 0, 100, 5), msg(k, 2, 100, 5)];
      const refused = bounds.makeRoom(batch, room, 'outbox_full');
      assert.deepEqual(bounds.dropped.map((d) => `${d.priority} ${d.what}`), [`0 id=${rows[0]!.id} seq=1`, `0 id=${rows[1]!.id} seq=2`], 'the two oldest raw rows');
      assert.equal(refused.size, 0);
      const full = bounds.makeRoom([msg(k, 0, 100, 6)], room - 2 * (100 + ROW_OVERHEAD), 'outbox_full');
      assert.equal(full.size, 1, 'no raw row left: the new raw message is the newest raw one, refused before an aggregate goes');
      assert.deepEqual(bounds.dropped.slice(2).map((d) => `${d.reason} ${d.priority}`), ['outbox_full 0']);
      const older = new Retention(store, keys, bounds.tally);
      older.dropOlderThan(4);
      assert.deepEqual(older.dropped.map((d) => `${d.reason} ${d.priority}`), ['max_age 1'], 'the aggregate of 3; the alert of 4 is not older');
      older.dropOlderThan(5);
      assert.deepEqual(older.dropped.map((d) => `${d.reason} ${d.priority}`), ['max_age 1', 'max_age 2']);
      assert.equal(older.tally.messages, 0);
      const refusing = new Retention(store, keys, new Tally());
      const tooBig = [msg(k, 0, 100), msg(k, 2, 100)];
      assert.deepEqual([...refusing.makeRoom(tooBig, 100 + ROW_OVERHEAD, 'disk_full')], [tooBig[0]], 'the batch keeps its alert, refuses its raw message');
    } finally {
      store.close();
    }
  });

  it('memory hold: bounded, raw dropped first and oldest first; space back when a commit empties it', () => {
    const keys = new KeyRegistry();
    const k = keys.keyFor('reading', 'd/t', 0);
    const hold = new MemoryHold(3 * (100 + ROW_OVERHEAD));
    const [r1, a1, r2] = [msg(k, 0, 100), msg(k, 2, 100), msg(k, 0, 100)];
    assert.deepEqual(hold.hold([r1!, a1!, r2!]), []);
    assert.equal(hold.wouldOverflow([msg(k, 1, 100)], 1), true);
    assert.equal(hold.wouldOverflow([msg(k, 1, 100)], 0), false, 'nothing in the file to make room with');
    const agg = msg(k, 1, 100);
    assert.deepEqual(hold.hold([agg]), [r1], 'the oldest raw message goes');
    assert.equal(hold.take(a1!.id), a1, 'acknowledged from memory');
    assert.equal(hold.bytes, 2 * (100 + ROW_OVERHEAD));
    hold.retryLater();
    assert.equal(hold.waitingForDisk, true);
    for (const m of [r2!, agg]) m.announced = true;
    assert.equal(hold.committed([r2!]), false);
    assert.equal(hold.committed([agg]), true, 'empty again: space is back');
    assert.equal(hold.size, 0);
  });

  it('dead letters: written by the commit transaction (not before), bounded, read newest first; a failed transaction writes them again', () => {
    const { store } = memoryStore();
    const db = store.db;
    try {
      const dl = new DeadLetters();
      dl.load(db);
      const rows = () => (db.prepare('SELECT count(*) AS n FROM dead_letters').get() as { n: number }).n;
      dl.record('input:a', { reason: 'parse', sample: 'line 0', at: 1 });
      assert.equal(rows(), 0, 'recording writes nothing');
      assert.deepEqual(dl.read(db, 1).map((d) => d.sample), ['line 0'], 'but it is readable at once');
      assert.throws(() =>
        db.transaction(() => {
          dl.write(db);
          throw new Error('disk gone');
        })(),
      );
      assert.equal(rows(), 0);
      assert.equal(dl.waiting, 1, 'kept for the next commit');
      db.transaction(() => dl.write(db))();
      dl.committed();
      assert.equal(rows(), 1);
      assert.equal(dl.waiting, 0);
      for (let i = 1; i <= 2 * DEAD_LETTER_MAX_ROWS; i++) dl.record('input:a', { reason: 'parse', sample: `line ${i}`, at: i, detail: 'not JSON' });
      assert.equal(dl.waiting, DEAD_LETTER_MAX_ROWS, 'waiting ones are bounded as the table is');
      db.transaction(() => dl.write(db))();
      dl.committed();
      assert.ok(rows() <= DEAD_LETTER_MAX_ROWS * 1.1);
      assert.equal(dl.count, rows());
      const newest = dl.read(db, 2);
      assert.deepEqual(newest.map((d) => [d.sample, d.detail]), [[`line ${2 * DEAD_LETTER_MAX_ROWS}`, 'not JSON'], [`line ${2 * DEAD_LETTER_MAX_ROWS - 1}`, 'not JSON']]);
    } finally {
      store.close();
    }
  });

  it('the outbox writes dead letters with its group commit, not in the callback that records them', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const o = Outbox.open({ config: outboxConfig({ commit_interval: 20 }), dataDir: dir, gatewayId: 'gw-1', log: silentLogger() });
      const inFile = () => {
        const db = new Database(path.join(dir, 'outbox.db'), { readonly: true });
        try {
          return (db.prepare('SELECT sample FROM dead_letters ORDER BY id').pluck().all() as string[]).join(',');
        } finally {
          db.close();
        }
      };
      const commits = o.stats().commits;
      for (let i = 0; i < 5; i++) o.recordDeadLetter('input:serial', { reason: 'parse', sample: `bad ${i}`, at: Date.now() });
      o.put(aggregate('d/t', 1));
      assert.equal(inFile(), '', 'nothing written while recording');
      assert.equal(o.stats().deadLetters, 5);
      assert.equal(o.deadLetters(1)[0]?.sample, 'bad 4');
      while (o.stats().commits === commits) await new Promise((r) => setTimeout(r, 5));
      assert.equal(o.stats().commits, commits + 1, 'one transaction for the message and the five dead letters');
      assert.equal(inFile(), 'bad 0,bad 1,bad 2,bad 3,bad 4');
      o.recordDeadLetter('input:serial', { reason: 'parse', sample: 'alone', at: Date.now() });
      while (!inFile().endsWith('alone')) await new Promise((r) => setTimeout(r, 5));
      o.close();
    } finally {
      cleanup();
    }
  });

  it('a batch that reaches commit_max_messages is committed whole by the put() that filled it (the timer slices, the count trigger does not)', () => {
    const { dir, cleanup } = tempDir();
    try {
      const o = Outbox.open({ config: outboxConfig({ commit_max_messages: 120, commit_interval: 60_000 }), dataDir: dir, gatewayId: 'gw-1', log: silentLogger() });
      const commits: number[] = [];
      o.onCommit((rows) => commits.push(rows.length));
      for (let i = 0; i < 119; i++) o.put(aggregate(`dev${i % 7}/temp`, i));
      assert.deepEqual(commits, []);
      o.put(aggregate('dev0/temp', 119));
      assert.deepEqual(commits, [120], 'one transaction, at once');
      assert.equal(o.stats().pending, 0);
      o.close();
    } finally {
      cleanup();
    }
  });

  it('transaction parts: every part in every commit, a one-shot part once', () => {
    const db = new Database(':memory:');
    const log: string[] = [];
    const part = (name: string) => ({ write: () => log.push(`w ${name}`), committed: () => log.push(`c ${name}`) });
    const parts = new TxParts();
    parts.add(part('journal'));
    parts.setOnce(part('checkpoint'));
    assert.equal(parts.oncePending, true);
    parts.committed(parts.write(db, [], Infinity));
    assert.equal(parts.oncePending, false);
    parts.committed(parts.write(db, [], Infinity));
    assert.deepEqual(log, ['w journal', 'w checkpoint', 'c journal', 'c checkpoint', 'w journal', 'c journal']);
    db.close();
  });

  it('drops: counted at once, saved in the file with a commit, totals over the life of the file', () => {
    const drops = new OutboxDrops(silentLogger(), () => 0);
    drops.loadSaved(new Map([['max_age', 2]]));
    drops.count('too_large', 1, 'aggregate d/t seq=1');
    drops.count('outbox_full', 0, 'id=1 seq=1', undefined, true);
    assert.equal(drops.hasUnsaved, true);
    const written = drops.toSave();
    assert.deepEqual([...written], [['too_large', 1]], 'what the commit did not drop itself');
    written.set('outbox_full', 1);
    drops.markSaved(written);
    assert.equal(drops.hasUnsaved, false);
    assert.deepEqual(drops.total(), { max_age: 2, outbox_full: 1, too_large: 1 });
    assert.deepEqual(drops.byPriority(), { raw: 1, aggregate: 1, alert: 0 });
    assert.deepEqual(drops.counter.counters(), { too_large: 1, outbox_full: 1 });
  });

  it('recovery: a corrupt file and its WAL are moved aside under one name', () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'outbox.db');
      writeFileSync(file, 'not a database');
      writeFileSync(`${file}-wal`, 'nor a WAL');
      const { aside, moved } = moveAside(file, Object.assign(new Error('file is not a database'), { code: 'SQLITE_NOTADB' }), Date.UTC(2026, 0, 2), silentLogger());
      assert.equal(moved, true);
      assert.equal(path.basename(aside), 'outbox.db.corrupt-2026-01-02T00-00-00-000Z');
      assert.equal(existsSync(file), false);
      assert.deepEqual(readdirSync(dir).sort(), ['outbox.db.corrupt-2026-01-02T00-00-00-000Z', 'outbox.db.corrupt-2026-01-02T00-00-00-000Z-wal']);
    } finally {
      cleanup();
    }
  });
});
