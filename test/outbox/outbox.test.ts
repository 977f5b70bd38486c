import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { createLogger, silentLogger } from '../../src/core/log.js';
import { Outbox, type OutboxRow } from '../../src/outbox/index.js';
import { PRIORITY } from '../../src/core/records.js';
import { aggregate, alert, outboxConfig, raw, tempDir, waitFor } from '../upstream/helpers.js';

function open(dir: string, over: Record<string, unknown> = {}, extra: { now?: () => number; maxPageCount?: number; log?: ReturnType<typeof silentLogger>; giveBackEveryMs?: number } = {}) {
  return Outbox.open({ config: outboxConfig(over), dataDir: dir, gatewayId: 'gw-1', log: extra.log ?? silentLogger(), now: extra.now, maxPageCount: extra.maxPageCount, giveBackEveryMs: extra.giveBackEveryMs });
}

const turn = () => new Promise((r) => setImmediate(r));
const walBytes = (dir: string) => (existsSync(path.join(dir, 'outbox.db-wal')) ? statSync(path.join(dir, 'outbox.db-wal')).size : 0);

function all(o: Outbox): OutboxRow[] {
  return [2, 1, 0].flatMap((p) => o.readFrom(p as 0 | 1 | 2, 0, 1_000_000));
}

function capture() {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { log: createLogger({ format: 'json', level: 'info', destination: dest }), lines };
}

describe('outbox', () => {
  it('a fleet that comes and goes: idle sequence keys leave memory, and a topic that returns (also after a reopen) goes on with its seq', () => {
    // Until 2026-12-07 every topic ever seen kept its key in memory and was read back at every
    // start: +2.3 KB of heap a device for good in bench/soak.ts.
    const { dir, cleanup } = tempDir();
    try {
      let t = Date.UTC(2026, 11, 7);
      let o = open(dir, { commit_max_messages: 100, commit_interval: 60_000 }, { now: () => t });
      const send = (device: number, n: number) => {
        for (let i = 0; i < n; i++) o.put(aggregate(`dev${device}/temp`, t + i));
        o.flush();
        for (const r of all(o)) o.ack(r);
        o.flush();
      };
      // 300 devices, one a minute, each sending 3 records and then gone.
      for (let d = 0; d < 300; d++) {
        send(d, 3);
        t += 60_000;
      }
      const s = o.stats();
      assert.equal(s.depth.messages, 0);
      assert.ok(s.keys.inMemory <= 12, `keys in memory: ${s.keys.inMemory} (10 minutes of devices at most, and the sweep's minute)`);
      assert.ok(s.keys.evicted >= 288, `evicted: ${s.keys.evicted}`);
      const seqs = (device: number) => all(o).map((r) => JSON.parse(r.payload.toString())).filter((p) => p.stream === `dev${device}/temp`).map((p) => [p.seq, p.epoch]);
      // dev0 returns: its key is read back from the file, its seq goes on (not back to 1).
      o.put(aggregate('dev0/temp', t));
      o.flush();
      assert.deepEqual(seqs(0), [[4, o.epochId]]);
      for (const r of all(o)) o.ack(r);
      o.flush();
      o.close();
      // A reopen reads only the keys of buffered rows (none); dev1 and dev0 go on all the same, and
      // a new topic gets a key of its own.
      t += 60_000;
      o = open(dir, {}, { now: () => t });
      assert.equal(o.stats().keys.inMemory, 0);
      o.put(aggregate('dev1/temp', t));
      o.put(aggregate('dev0/temp', t));
      o.put(aggregate('dev-new/temp', t));
      o.flush();
      assert.deepEqual([seqs(1), seqs(0), seqs('-new' as unknown as number)], [[[4, o.epochId]], [[5, o.epochId]], [[1, o.epochId]]]);
      o.close();
    } finally {
      cleanup();
    }
  });

  it('assigns ids and gap-free per-topic sequences, commits in groups, and keeps them across a reopen', () => {
    const { dir, cleanup } = tempDir();
    try {
      let o = open(dir, { commit_max_messages: 100, commit_interval: 60_000 });
      for (let i = 0; i < 250; i++) o.put(aggregate(`dev${i % 2}/temp`, i));
      // Two full batches were committed by put(); the rest waits for the interval or flush().
      assert.equal(o.stats().committed, 200);
      assert.equal(o.stats().pending, 50);
      o.flush();
      assert.equal(o.stats().depth.messages, 250);
      const epoch = o.epochId;
      o.close();

      o = open(dir);
      assert.equal(o.epochId, epoch, 'the epoch belongs to the file');
      assert.equal(o.stats().depth.messages, 250);
      o.put(aggregate('dev0/temp', 999));
      o.flush();
      const rows = all(o);
      const payloads = rows.map((r) => JSON.parse(r.payload.toString()));
      const dev0 = payloads.filter((p) => p.stream === 'dev0/temp').map((p) => p.seq);
      assert.deepEqual(dev0, Array.from({ length: 126 }, (_, i) => i + 1), 'seq continues after reopen, no gaps');
      const ids = new Set(payloads.map((p) => p.id));
      assert.equal(ids.size, 251);
      for (const p of payloads) {
        assert.equal(p.gateway, 'gw-1');
        assert.equal(p.schema, 1);
        assert.equal(p.epoch, epoch);
        assert.match(p.id, /^p1\/upstream\/aggregate\/dev[01]\/temp@\d+-\d+$/, 'the id says what the record is');
      }
      o.close();
    } finally {
      cleanup();
    }
  });

  it('reserves row ids in the file a block at a time: next_id is not written in every commit, and after a drain and a restart ids still only go up', () => {
    const { dir, cleanup } = tempDir();
    try {
      let o = open(dir, { commit_interval: 60_000 });
      const nextIdInFile = () => Number(o.database.prepare("SELECT v FROM meta WHERE k = 'next_id'").pluck().get());
      o.put(aggregate('dev0/temp', 0));
      o.flush();
      const reserved = nextIdInFile();
      assert.ok(reserved > 2, 'a block is reserved with the first commit');
      for (let i = 1; i < 50; i++) {
        o.put(aggregate('dev0/temp', i));
        o.flush();
      }
      assert.equal(nextIdInFile(), reserved, 'not written again within the block');
      const used = Math.max(...all(o).map((r) => r.id));
      for (const r of all(o)) o.ack(r);
      o.flush();
      assert.equal(o.stats().depth.messages, 0, 'drained: no row keeps the highest id');
      o.close();
      o = open(dir);
      o.put(aggregate('dev0/temp', 99));
      o.flush();
      assert.ok(all(o)[0]!.id > used, `a row after the restart has an id above ${used}`);
      o.close();
    } finally {
      cleanup();
    }
  });

  it('deletes a message only when it is acknowledged', () => {
    const { dir, cleanup } = tempDir();
    try {
      const o = open(dir);
      for (let i = 0; i < 10; i++) o.put(alert('d/x', i));
      o.flush();
      const rows = all(o);
      for (const r of rows.slice(0, 4)) o.ack(r);
      o.ack(rows[0]!); // a duplicate PUBACK is harmless
      o.flush();
      assert.equal(o.stats().depth.messages, 6);
      assert.equal(o.stats().acked, 4);
      assert.deepEqual(all(o).map((r) => r.id), rows.slice(4).map((r) => r.id));
      o.close();
    } finally {
      cleanup();
    }
  });

  it('when full, drops the lowest priority first and the oldest first within it, and counts every drop', () => {
    const { dir, cleanup } = tempDir();
    try {
      const o = open(dir, { max_bytes: 40_000, commit_max_messages: 10 });
      for (let i = 0; i < 20; i++) o.put(alert('d/a', i));
      for (let i = 0; i < 40; i++) o.put(aggregate('d/g', i));
      for (let i = 0; i < 200; i++) o.put(raw('d/r', i, 100));
      o.flush();
      const s1 = o.stats();
      assert.ok(s1.depth.bytes <= 40_000, `depth ${s1.depth.bytes} within the bound`);
      assert.equal(s1.depth.byPriority.alert, 20, 'alerts kept');
      assert.equal(s1.depth.byPriority.aggregate, 40, 'aggregates kept');
      assert.ok(s1.dropped.outbox_full! > 0);
      assert.equal(s1.droppedByPriority.raw, s1.dropped.outbox_full);
      // The raw messages kept are the newest.
      const rawSeqs = o.readFrom(PRIORITY.raw, 0, 1000).map((r) => JSON.parse(r.payload.toString()).seq);
      assert.equal(rawSeqs[rawSeqs.length - 1], 200);
      assert.deepEqual(rawSeqs, Array.from({ length: rawSeqs.length }, (_, i) => 201 - rawSeqs.length + i));
      // Now alerts push out aggregates once raw is gone.
      for (let i = 0; i < 400; i++) o.put(alert('d/a', 100 + i));
      o.flush();
      const s2 = o.stats();
      assert.equal(s2.depth.byPriority.raw, 0);
      assert.ok(s2.droppedByPriority.aggregate > 0, 'aggregates dropped after raw');
      assert.ok(s2.depth.bytes <= 40_000);
      assert.equal(s2.accepted, 660);
      assert.equal(s2.depth.messages + s2.dropped.outbox_full!, 660, 'every message is either buffered or counted');
      assert.ok(o.drops.samplesFor('outbox_full').length > 0, 'samples kept');
      o.close();
    } finally {
      cleanup();
    }
  });

  it('logs drops at warn once per reason per interval with the count, and saves the counts in the file (they survive a reopen)', () => {
    const { dir, cleanup } = tempDir();
    try {
      const cap = capture();
      let o = open(dir, { max_bytes: 20_000, commit_max_messages: 10, max_message_bytes: 1000 }, { log: cap.log });
      for (let i = 0; i < 300; i++) o.put(raw('d/r', i, 100));
      for (let i = 0; i < 3; i++) o.put(raw('d/big', i, 2000));
      o.flush();
      const s = o.stats();
      assert.ok(s.dropped.outbox_full! > 100);
      assert.equal(s.dropped.too_large, 3);
      assert.deepEqual(s.droppedTotal, s.dropped, 'saved with the commits');
      const warns = cap.lines.map((l) => JSON.parse(l)).filter((l) => l.level === 40 && l.reason);
      // The first drop of each reason at once; the rest wait for the next line (at most one a minute).
      assert.deepEqual(warns.map((l) => [l.reason, l.dropped]), [['outbox_full', 1], ['too_large', 1]]);
      o.close(); // logs what waited
      const after = cap.lines.map((l) => JSON.parse(l)).filter((l) => l.level === 40 && l.reason);
      assert.deepEqual(after.slice(2).map((l) => [l.reason, l.dropped]), [['outbox_full', s.dropped.outbox_full! - 1], ['too_large', 2]]);
      assert.match(after[2].msg, /dropped \d+ messages \(outbox_full\)/);
      // A new process: its own counters start at zero, the file's totals go on.
      o = open(dir, { max_message_bytes: 1000 });
      assert.deepEqual(o.stats().dropped, {});
      assert.deepEqual(o.stats().droppedTotal, s.dropped);
      o.put(raw('d/big', 9, 2000));
      o.flush();
      assert.equal(o.stats().droppedTotal.too_large, 4);
      o.close();
      const db = new Database(path.join(dir, 'outbox.db'), { readonly: true });
      assert.equal((db.prepare("SELECT n FROM drop_counts WHERE reason = 'too_large'").get() as { n: number }).n, 4);
      db.close();
    } finally {
      cleanup();
    }
  });

  it('while the disk is full: acknowledged rows are never read back, new messages are held in memory, readable in order, and freed at once when acknowledged', () => {
    const { dir, cleanup } = tempDir();
    try {
      // 40 pages of 4 KiB: the file cannot grow past 160 KiB.
      const o = open(dir, { commit_max_messages: 50 }, { maxPageCount: 40 });
      let i = 0;
      while (o.stats().diskFullEvents === 0) {
        o.put(raw('d/r', i++, 200));
        if (i % 50 === 0) o.flush();
      }
      const inFile = o.stats().depth.messages - o.stats().memory.messages;
      assert.ok(o.stats().memory.messages > 0, 'held in memory');
      const rows = all(o);
      assert.equal(rows.length, o.stats().depth.messages, 'the file and memory read as one');
      assert.deepEqual(rows.map((r) => r.id), [...rows.map((r) => r.id)].sort((a, b) => a - b), 'in id order');
      // Acknowledge the first 10 rows of the file: never read back, whether or not the delete commits.
      for (const r of rows.slice(0, 10)) o.ack(r);
      assert.equal(all(o).length, rows.length - 10);
      assert.ok(!all(o).some((r) => rows.slice(0, 10).some((a) => a.id === r.id)));
      // Acknowledging what is in memory frees it at once.
      const memRows = rows.slice(inFile);
      for (const r of memRows) o.ack(r);
      assert.equal(o.stats().memory.messages, 0);
      o.flush();
      assert.equal(o.stats().ackedPending, 0, 'the deletes committed (space was made by them)');
      assert.equal(o.stats().dropped.disk_full ?? 0, 0, 'nothing dropped');
      o.close();
    } finally {
      cleanup();
    }
  });

  it('drops messages older than max_age', () => {
    const { dir, cleanup } = tempDir();
    try {
      let t = 1_000_000;
      const o = open(dir, { max_age: '1h' }, { now: () => t });
      for (let i = 0; i < 5; i++) o.put(aggregate('d/g', i));
      o.flush();
      t += 30 * 60_000;
      for (let i = 0; i < 3; i++) o.put(alert('d/a', i));
      o.flush();
      t += 45 * 60_000;
      o.flush();
      const s = o.stats();
      assert.equal(s.dropped.max_age, 5);
      assert.equal(s.depth.messages, 3);
      assert.equal(s.oldestAgeMs, 45 * 60_000);
      o.close();
    } finally {
      cleanup();
    }
  });

  it('refuses oversized payloads and skips late readings unless told to forward them, counting both', () => {
    const { dir, cleanup } = tempDir();
    try {
      const o = open(dir, { max_message_bytes: 1000 });
      o.put(raw('d/r', 1, 2000));
      o.put({ kind: 'late', pipeline: 'p', output: 'late', reading: { stream: 'd/r', ts: 1, value: 1 }, watermark: 5 });
      o.flush();
      assert.equal(o.stats().dropped.too_large, 1);
      assert.equal(o.stats().lateSkipped, 1);
      assert.equal(o.stats().depth.messages, 0);
      o.close();
      o.put(raw('d/r', 1));
      assert.equal(o.stats().dropped.closed, 1);
      const o2 = open(dir, { forward_late: true });
      o2.put({ kind: 'late', pipeline: 'p', output: 'late', reading: { stream: 'd/r', ts: 1, value: 1 }, watermark: 5 });
      o2.flush();
      assert.equal(JSON.parse(all(o2)[0]!.payload.toString()).kind, 'late');
      o2.close();
    } finally {
      cleanup();
    }
  });

  it('moves a file that is not a database aside, says so in the log, and starts a new one', () => {
    const { dir, cleanup } = tempDir();
    try {
      writeFileSync(path.join(dir, 'outbox.db'), 'this is not a database '.repeat(500));
      const { log, lines } = capture();
      const o = Outbox.open({ config: outboxConfig(), dataDir: dir, gatewayId: 'gw-1', log });
      const aside = readdirSync(dir).filter((f) => f.startsWith('outbox.db.corrupt-'));
      assert.equal(aside.length, 1, `moved aside: ${readdirSync(dir).join(', ')}`);
      const line = lines.map((l) => JSON.parse(l)).find((l) => l.level === 50);
      assert.ok(line, 'an error line was logged');
      assert.match(line.msg, /corrupt or unreadable.*moved it to .*outbox\.db\.corrupt-/);
      assert.equal(o.stats().recoveries, 1);
      o.put(alert('d/a', 1));
      o.flush();
      assert.equal(o.stats().depth.messages, 1);
      o.close();
    } finally {
      cleanup();
    }
  });

  it('detects a damaged page in a real outbox file on open and recovers', () => {
    const { dir, cleanup } = tempDir();
    try {
      const o = open(dir, { commit_max_messages: 1000 });
      for (let i = 0; i < 3000; i++) o.put(raw('d/r', i, 50));
      o.close();
      const file = path.join(dir, 'outbox.db');
      // Scribble over b-tree pages in the middle of the file.
      const size = statSync(file).size;
      const fd = openSync(file, 'r+');
      for (let off = 4096 * 3; off < size - 4096; off += 4096 * 5) writeSync(fd, Buffer.alloc(200, 0xa5), 0, 200, off + 8);
      closeSync(fd);
      const { log, lines } = capture();
      const o2 = Outbox.open({ config: outboxConfig(), dataDir: dir, gatewayId: 'gw-1', log });
      assert.equal(o2.stats().recoveries, 1, lines.join(''));
      assert.equal(o2.stats().depth.messages, 0);
      assert.ok(readdirSync(dir).some((f) => f.startsWith('outbox.db.corrupt-')));
      o2.put(alert('d/a', 1));
      o2.flush();
      assert.equal(o2.stats().depth.messages, 1);
      o2.close();
    } finally {
      cleanup();
    }
  });

  it('close commits the open batch: what was put is in the file after a reopen', () => {
    const { dir, cleanup } = tempDir();
    try {
      const o = open(dir, { commit_max_messages: 1000, commit_interval: '1h' });
      for (let i = 0; i < 30; i++) o.put(raw('d/r', i, 50));
      assert.equal(o.stats().pending, 30, 'nothing committed before close');
      o.close();
      const again = open(dir);
      assert.equal(again.stats().depth.messages, 30);
      again.close();
    } finally {
      cleanup();
    }
  });

  it('keeps running when the disk is full and memory overflows: drops by priority, counts disk_full, keeps alerts', () => {
    const { dir, cleanup } = tempDir();
    try {
      // 40 pages of 4 KiB: a "disk" of 160 KiB, while the byte bound would allow far more; 32 KiB of memory queue.
      const o = open(dir, { commit_max_messages: 50, memory_bytes: 32 * 1024 }, { maxPageCount: 40 });
      for (let i = 0; i < 50; i++) o.put(alert('d/a', i));
      o.flush();
      for (let i = 0; i < 3000; i++) o.put(raw('d/r', i, 100));
      o.flush();
      const s = o.stats();
      assert.ok(s.diskFullEvents > 0, 'the disk filled up');
      assert.ok((s.dropped.disk_full ?? 0) > 0, 'drops counted as disk_full');
      assert.equal(s.depth.byPriority.alert, 50, 'alerts kept');
      assert.ok(s.effectiveMaxBytes < outboxConfig().max_bytes);
      assert.equal(s.depth.messages + (s.dropped.disk_full ?? 0) + (s.dropped.outbox_full ?? 0), 3050, 'nothing lost without a count');
      // Still accepting: new alerts go in (raw makes room).
      for (let i = 0; i < 20; i++) o.put(alert('d/a', 100 + i));
      o.flush();
      assert.equal(o.stats().depth.byPriority.alert, 70);
      // After a full drain the bound is restored.
      for (const r of all(o)) o.ack(r);
      o.flush();
      assert.equal(o.stats().depth.messages, 0);
      assert.equal(o.stats().effectiveMaxBytes, outboxConfig().max_bytes);
      o.close();
    } finally {
      cleanup();
    }
  });

  it("keeps SQLite's page cache at 2 MB, not the 16 MB better-sqlite3 builds in (the journal's new pages filled it: 13 MB of RSS)", () => {
    const { dir, cleanup } = tempDir();
    try {
      const o = open(dir);
      assert.equal(o.database.pragma('cache_size', { simple: true }), -2048);
      o.close();
    } finally {
      cleanup();
    }
  });

  it('gives space back to the file system after a drain (auto_vacuum=INCREMENTAL)', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const o = open(dir, { commit_max_messages: 1000 });
      for (let i = 0; i < 20_000; i++) o.put(raw(`d${i % 10}/r`, i, 100));
      o.flush();
      const full = o.stats().fileBytes;
      const rows = all(o);
      for (const r of rows) o.ack(r);
      o.flush();
      // At once, or shortly after when the background WAL checkpoint happened to be at work.
      await waitFor(() => o.stats().fileBytes < full / 4, () => `the file to shrink from ${full} bytes (now ${o.stats().fileBytes})`, 10_000);
      o.close();
      const db = new Database(path.join(dir, 'outbox.db'), { readonly: true });
      assert.equal(db.pragma('auto_vacuum', { simple: true }), 2);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      db.close();
    } finally {
      cleanup();
    }
  });

  it('truncates the WAL after a drain even when another connection is in the way: put off, not waited for, tried again', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const o = open(dir, { commit_max_messages: 1000, wal_checkpoint: 'inline' });
      for (let i = 0; i < 5_000; i++) o.put(raw(`d${i % 10}/r`, i, 100));
      o.flush();
      // A reader on the snapshot of now (an inspection tool, say): no truncation can finish under it.
      const reader = new Database(path.join(dir, 'outbox.db'), { readonly: true });
      reader.exec('BEGIN');
      reader.prepare('SELECT count(*) FROM messages').get();
      for (const r of all(o)) o.ack(r);
      o.flush();
      const held = walBytes(dir);
      assert.ok(held > 1_000_000, `the WAL still holds the drain while the reader is open (${held} bytes)`);
      reader.exec('COMMIT');
      reader.close();
      await waitFor(() => walBytes(dir) === 0, () => `the WAL to be truncated by the retry (${walBytes(dir)} bytes)`, 10_000);
      o.close();
    } finally {
      cleanup();
    }
  });

  it('in the steady state (no backlog) keeps freed pages for reuse instead of moving pages on every drain', () => {
    const { dir, cleanup } = tempDir();
    try {
      const o = open(dir, { commit_max_messages: 1000 });
      const pages: number[] = [];
      let n = 0;
      for (let round = 0; round < 20; round++) {
        for (let i = 0; i < 900; i++) o.put(raw(`d${i % 10}/r`, n++, 800)); // below a backlog (1000)
        o.flush();
        for (const r of all(o)) o.ack(r);
        o.flush();
        assert.equal(o.stats().depth.messages, 0);
        pages.push(o.database.pragma('page_count', { simple: true }) as number);
      }
      const free = o.database.pragma('freelist_count', { simple: true }) as number;
      assert.ok(free > 64, `freed pages are kept for the next rows (${free} free): no incremental vacuum on every drain`);
      assert.ok(pages.at(-1)! <= pages[0]! * 1.2, `and reused, so the database does not grow: ${pages[0]} → ${pages.at(-1)} pages`);
      o.close();
    } finally {
      cleanup();
    }
  });

  it('commits what the timer finds in slices of 50, one per turn of the event loop, in order; flush() commits all at once', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const o = open(dir, { commit_max_messages: 1000, commit_interval: 5 });
      const slices: number[][] = [];
      const pendingAfter: number[] = [];
      o.onCommit((rows) => {
        slices.push(rows.map((r) => r.id));
        pendingAfter.push(o.stats().pending);
      });
      for (let i = 0; i < 230; i++) o.put(aggregate(`dev${i % 7}/temp`, i));
      while (o.stats().pending > 0) await turn();
      assert.deepEqual(slices.map((s) => s.length), [50, 50, 50, 50, 30], 'one transaction per slice');
      assert.deepEqual(pendingAfter, [180, 130, 80, 30, 0], 'the rest waits for the next turn');
      assert.deepEqual(slices.flat(), all(o).map((r) => r.id).sort((a, b) => a - b), 'every row, in id order');
      assert.equal(o.stats().depth.messages, 230);
      for (let i = 0; i < 120; i++) o.put(aggregate('dev0/temp', 1000 + i));
      o.flush();
      assert.equal(slices.at(-1)!.length, 120, 'flush() is one transaction');
      assert.equal(o.stats().pending, 0);
      o.close();
    } finally {
      cleanup();
    }
  });

  it('between slices, the saved last seq of each key is that of its last committed message (a crash there leaves no gap)', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const o = open(dir, { commit_max_messages: 1000, commit_interval: 5 });
      const seen: Array<Array<{ stream: string; last_seq: number; top: number }>> = [];
      o.onCommit(() => {
        const db = new Database(path.join(dir, 'outbox.db'), { readonly: true });
        seen.push(db.prepare('SELECT k.stream, k.last_seq, max(m.seq) AS top FROM keys k JOIN messages m ON m.key_id = k.id GROUP BY k.id').all() as never);
        db.close();
      });
      for (let i = 0; i < 120; i++) o.put(aggregate(`dev${i % 2}/temp`, i));
      while (o.stats().pending > 0) await turn();
      assert.equal(seen.length, 3);
      for (const rows of seen) for (const r of rows) assert.equal(r.last_seq, r.top, `${r.stream}: saved ${r.last_seq}, committed up to ${r.top}`);
      assert.deepEqual(seen.at(-1)!.map((r) => r.last_seq), [60, 60]);
      o.close();
    } finally {
      cleanup();
    }
  });

  it('truncates the WAL when drained at most every giveBackEveryMs, and the last time after it', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const o = open(dir, { commit_interval: 60_000 }, { giveBackEveryMs: 300 });
      let r0 = 0;
      const round = (n: number) => {
        for (let i = 0; i < n; i++) o.put(aggregate(`dev${i % 5}/temp`, r0++));
        o.flush();
        for (const r of all(o)) o.ack(r);
        o.flush();
        assert.equal(o.stats().depth.messages, 0);
      };
      round(20);
      assert.equal(walBytes(dir), 0, 'first drain: WAL truncated at once');
      round(20);
      assert.ok(walBytes(dir) > 0, 'drained again right after: the WAL is left for now');
      await waitFor(() => walBytes(dir) === 0, 'the WAL truncated once the interval has passed');
      o.close();
    } finally {
      cleanup();
    }
  });

  it('keeps a bounded dead-letter table', () => {
    const { dir, cleanup } = tempDir();
    try {
      const o = open(dir);
      for (let i = 0; i < 1200; i++) o.recordDeadLetter('serial:pump', { reason: 'parse', sample: `line ${i}`, at: i });
      assert.ok(o.stats().deadLetters <= 1100);
      const dl = o.deadLetters(2);
      assert.equal(dl[0]!.sample, 'line 1199');
      assert.equal(dl[0]!.source, 'serial:pump');
      o.close();
      assert.ok(existsSync(path.join(dir, 'outbox.db')));
    } finally {
      cleanup();
    }
  });
});
