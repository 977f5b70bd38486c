import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { silentLogger } from '../../src/core/log.js';
import type { Reading } from '../../src/core/reading.js';
import { IngestJournal, type JournalOptions, readJournal } from '../../src/journal/journal.js';
import { entryKinds } from '../../src/outbox/journal-blocks.js';
import { Outbox } from '../../src/outbox/index.js';
import { outboxConfig, tempDir } from '../upstream/helpers.js';

/** An outbox in a temporary folder and a journal committing through it (any commit error fails the test). */
function openJournal(t: TestContext, opts: Partial<JournalOptions> = {}): { outbox: Outbox; journal: IngestJournal } {
  const { dir, cleanup } = tempDir('edgewise-journal-');
  t.after(cleanup);
  const outbox = Outbox.open({ config: outboxConfig(), dataDir: dir, gatewayId: 'gw', log: silentLogger() });
  const journal = new IngestJournal({ lastPos: 0, maxWait: 5, unackedWait: 5, commit: () => outbox.commitParts(), onError: (err) => assert.fail(String(err)), ...opts });
  outbox.addTxPart(journal);
  return { outbox, journal };
}

test('journal: every reading comes back exactly (NaN, Infinity, -0 included); fields and tags in the block, readings of another shape v8-serialised whole', (t) => {
  const { outbox, journal } = openJournal(t);
  const T = 1_767_225_600_123.5;
  const cases: Array<{ r: Reading; stored: 'columns' | 'fields' | 'whole' }> = [
    { r: { stream: 'a/t', ts: T, value: 21.5 }, stored: 'columns' },
    { r: { stream: 'a/t', ts: T, value: 21.5, fields: { t: T, fix: 'gps', ok: true, no: false } }, stored: 'fields' },
    { r: { stream: 'a/t', ts: T, value: 1, tags: { unit: '°C' } }, stored: 'fields' },
    { r: { stream: 'a/t', ts: T, value: 1, fields: { n: 3 }, tags: { site: 'w' } }, stored: 'fields' },
    { r: { stream: 'a/t', ts: T, value: 1, fields: {} }, stored: 'fields' },
    { r: { stream: 'a/t', ts: T, value: NaN }, stored: 'columns' },
    { r: { stream: 'a/t', ts: -0, value: -Infinity }, stored: 'columns' },
    { r: { stream: 'a/t', ts: T, value: 1, fields: { x: NaN } }, stored: 'fields' },
    { r: { stream: 'a/t', ts: T, value: 1, fields: { x: Infinity } }, stored: 'fields' },
    { r: { stream: 'a/t', ts: T, value: 1, fields: { x: -0 } }, stored: 'fields' },
    { r: { stream: 'a/t', ts: T, value: 1, fields: JSON.parse('{"__proto__": 1}') as Record<string, number> }, stored: 'whole' },
    { r: { stream: 'a/t', ts: T, value: 1, odd: [1] } as unknown as Reading, stored: 'whole' },
    { r: { stream: 'a/t', ts: T, value: 1, fields: { list: [1, 2] } } as unknown as Reading, stored: 'whole' },
  ];
  for (const c of cases) journal.append(c.r, 1000);
  journal.commitNow();
  const back = [...readJournal(outbox.database, 0)];
  assert.deepEqual(
    back.map((e) => ('reading' in e ? e.reading : e)),
    cases.map((c) => c.r),
  );
  const blocks = outbox.database.prepare('SELECT data FROM journal_blocks ORDER BY last').pluck().all() as Buffer[];
  assert.equal(blocks.length, 1, 'one block for one commit');
  const kinds = entryKinds(blocks[0]!);
  assert.deepEqual(kinds, cases.map((c) => c.stored), 'a reading with fields is kept in the block (v8.serialize costs ten times as much)');
  journal.close();
  outbox.close();
});

test('journal: entries nobody waits for commit within unackedWait; once an acknowledgement waits, within maxWait', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { outbox, journal } = openJournal(t, { unackedWait: 100 });
  const r = (value: number): Reading => ({ stream: 'a/t', ts: 1000 + value, value });

  // QoS 0 / serial readings and a tick: one commit for all of them, unackedWait after the first.
  journal.append(r(1), 1000);
  t.mock.timers.tick(50);
  journal.append(r(2), 1050);
  journal.tick(1060);
  t.mock.timers.tick(49);
  assert.equal(journal.stats.commits, 0, 'not committed before unackedWait');
  t.mock.timers.tick(1);
  assert.equal(journal.stats.commits, 1, 'committed unackedWait after the first entry');

  // An unacknowledged reading, then a QoS 1 reading whose PUBACK waits: committed maxWait later.
  journal.append(r(3), 1100);
  t.mock.timers.tick(20);
  journal.append(r(4), 1120);
  let acked = false;
  journal.whenDurable(() => (acked = true));
  t.mock.timers.tick(4);
  assert.equal(acked, false);
  t.mock.timers.tick(1);
  assert.equal(acked, true, 'acknowledged maxWait after it waited');
  assert.equal(journal.stats.commits, 2);
  assert.equal([...readJournal(outbox.database, 0)].length, 5);
  journal.close();
  outbox.close();
});

test('journal: while commits fail (a full disk) it retries once a second, not at every reading, logs once, holds a bounded number of entries and never drops a QoS 1 delivery', (t) => {
  const { dir, cleanup } = tempDir('edgewise-journal-');
  t.after(cleanup);
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const outbox = Outbox.open({ config: outboxConfig(), dataDir: dir, gatewayId: 'gw', log: silentLogger() });
  let full = true;
  let attempts = 0;
  const errors: unknown[] = [];
  const recovered: Array<[number, number]> = [];
  const journal = new IngestJournal({
    lastPos: 0,
    maxWait: 5,
    unackedWait: 100,
    maxPending: 1000,
    commit: () => {
      attempts++;
      if (full) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      outbox.commitParts();
    },
    onError: (err) => errors.push(err),
    onRecovered: (failed, dropped) => recovered.push([failed, dropped]),
  });
  outbox.addTxPart(journal);
  const r = (value: number): Reading => ({ stream: 'a/t', ts: 1000 + value, value });

  // A QoS 1 delivery of two readings (its PUBACK waits), then 5,000 QoS 0 readings.
  journal.append(r(-1), 1000, 'client:1:42');
  journal.append(r(-2), 1000);
  let acked = false;
  journal.whenDurable(() => (acked = true));
  for (let i = 0; i < 5000; i++) journal.append(r(i), 1000 + i);
  assert.ok(attempts <= 3, `a commit is not tried at every reading while the disk is full (${attempts} tries)`);
  assert.equal(errors.length, 1, 'one error reported for the run of failures');
  assert.ok(journal.stats.dropped >= 5002 - 1000, `entries beyond the bound dropped and counted (${journal.stats.dropped})`);
  assert.equal(acked, false, 'the PUBACK waits while nothing is durable');

  // Still failing a second later: one more try, still one error reported.
  t.mock.timers.tick(1000);
  assert.equal(errors.length, 1);
  assert.equal(acked, false);

  // Space again: the next try commits what is held, the QoS 1 readings among it, and the PUBACK goes.
  full = false;
  t.mock.timers.tick(1000);
  assert.equal(acked, true, 'acknowledged once durable');
  const rows = [...readJournal(outbox.database, 0)].flatMap((e) => ('reading' in e ? [e.reading.value] : []));
  assert.deepEqual(rows.slice(0, 2), [-1, -2], 'the QoS 1 delivery was kept');
  assert.equal(rows.length + journal.stats.dropped, 5002, 'every reading journaled or counted');
  assert.deepEqual(recovered, [[journal.stats.failedCommits, journal.stats.dropped]]);
  journal.close();
  outbox.close();
});

test('journal: on a nearly full disk it writes what fits (the rest waits, as after a failed commit), always what a PUBACK waits for, dropping what nobody waits for before it (counted)', (t) => {
  const { dir, cleanup } = tempDir('edgewise-journal-');
  t.after(cleanup);
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const outbox = Outbox.open({ config: outboxConfig(), dataDir: dir, gatewayId: 'gw', log: silentLogger() });
  const db = outbox.database;
  let room = 140; // bytes: a block of three entries without fields (48 + 31 + 27 + 27)
  const errors: string[] = [];
  const recovered: Array<[number, number]> = [];
  const journal: IngestJournal = new IngestJournal({
    lastPos: 0,
    maxWait: 5,
    unackedWait: 5,
    commit: () => {
      db.transaction(() => journal.write(db, [], room))();
      journal.committed();
    },
    onError: (err) => errors.push((err as Error).message),
    onRecovered: (failed, dropped) => recovered.push([failed, dropped]),
  });
  const r = (value: number): Reading => ({ stream: 'a/t', ts: 1000 + value, value });
  const stored = () => [...readJournal(db, 0)].map((e) => ('reading' in e ? e.reading.value : NaN));

  for (let i = 1; i <= 10; i++) journal.append(r(i), 1000);
  journal.commitNow();
  assert.deepEqual(stored(), [1, 2, 3], 'the oldest that fit');
  assert.equal(errors.length, 1);
  assert.match(errors[0] ?? '', /disk nearly full: 7 journal entries wait/);

  // A QoS 1 delivery and no room at all: its reading is written, the seven before it nobody waits for are dropped.
  room = 0;
  let acked = false;
  journal.append(r(11), 1000, 'client/1/h');
  journal.whenDurable(() => (acked = true));
  journal.commitNow();
  assert.equal(acked, true, 'the PUBACK is not held back for good');
  assert.deepEqual(stored(), [1, 2, 3, 11]);
  assert.equal(journal.stats.dropped, 7);

  // Room again: everything is written and the recovery is reported once.
  room = Infinity;
  journal.append(r(12), 1000);
  journal.commitNow();
  assert.deepEqual(stored(), [1, 2, 3, 11, 12]);
  assert.deepEqual(recovered, [[1, 7]]);
  assert.equal(errors.length, 1, 'one error line for the run');
  journal.close();
  outbox.close();
});

test('journal: a reading is encoded when it is appended and not held until the commit (at thousands a second, held readings outlive the young generation)', async (t) => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const { outbox, journal } = openJournal(t, { unackedWait: 60_000 });
  const refs: Array<WeakRef<Reading>> = [];
  const appendSome = (): void => {
    for (let i = 0; i < 100; i++) {
      const r: Reading = { stream: `d${i % 7}/t`, ts: 1000 + i, value: i, fields: { n: i } };
      refs.push(new WeakRef(r));
      journal.append(r, 2000 + i, i === 50 ? 'client:1:7' : undefined);
    }
  };
  appendSome();
  await new Promise((resolve) => setImmediate(resolve)); // WeakRefs hold their targets until the current job ends
  gc();
  assert.equal(refs.filter((r) => r.deref() !== undefined).length, 0, 'no reading held by the journal before its commit');
  journal.commitNow();
  const back = [...readJournal(outbox.database, 0)].map((e) => ('reading' in e ? [e.reading.stream, e.reading.value, e.reading.fields?.n, 'src' in e ? e.src : undefined] : []));
  assert.equal(back.length, 100);
  assert.deepEqual(back[3], ['d3/t', 3, 3, undefined]);
  assert.deepEqual(back[50], ['d1/t', 50, 50, 'client:1:7']);
  journal.close();
  outbox.close();
});

test('journal: a reading it cannot encode (a function in it) is counted and reported, never a broken block or a stuck commit', (t) => {
  const refused: unknown[] = [];
  const { outbox, journal } = openJournal(t, { unackedWait: 60_000, onUnencodable: (_err, stream) => refused.push(stream) });
  journal.append({ stream: 'a/t', ts: 1, value: 1 }, 1000);
  journal.append({ stream: 'b/t', ts: 2, value: 2, fields: { f: () => 0 } } as unknown as Reading, 1001);
  journal.append({ stream: 'b/t', ts: 3, value: 3 }, 1002);
  journal.commitNow();
  assert.deepEqual(refused, ['b/t']);
  assert.equal(journal.stats.dropped, 1);
  assert.equal(journal.stats.commits, 1, 'the commit went through');
  assert.deepEqual(
    [...readJournal(outbox.database, 0)].map((e) => ('reading' in e ? [e.reading.stream, e.reading.value] : [])),
    [
      ['a/t', 1],
      ['b/t', 3],
    ],
  );
  journal.close();
  outbox.close();
});

test('journal: when the first reading of a QoS 1 delivery cannot be encoded, its next reading carries the delivery key (a redelivery after a restart is still recognised)', (t) => {
  const { outbox, journal } = openJournal(t, { unackedWait: 60_000 });
  journal.append({ stream: 'b/t', ts: 1, value: 1, fields: { f: () => 0 } } as unknown as Reading, 1000, 'client:1:9');
  journal.append({ stream: 'b/t', ts: 2, value: 2 }, 1000);
  journal.whenDurable(() => {});
  journal.append({ stream: 'b/t', ts: 3, value: 3 }, 1001); // the next delivery's (QoS 0): no key
  journal.commitNow();
  assert.deepEqual(
    [...readJournal(outbox.database, 0)].map((e) => ('reading' in e ? [e.reading.value, 'src' in e ? e.src : undefined] : [])),
    [
      [2, 'client:1:9'],
      [3, undefined],
    ],
  );
  journal.close();
  outbox.close();
});

test('journal: while commits fail, what is held is sealed in blocks and the oldest go whole (nothing kept is encoded again); QoS 1 deliveries among them are kept; one row per block once space is back', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let full = true;
  const { outbox, journal } = openJournal(t, {
    unackedWait: 100,
    onError: () => {},
    commit: () => {
      if (full) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      outbox.commitParts();
    },
  });
  const acks: number[] = [];
  const N = 200_000;
  for (let i = 0; i < N; i++) {
    // One QoS 1 delivery in 1,000 readings; its PUBACK waits for the disk.
    if (i % 1000 === 500) {
      journal.append({ stream: `d${i % 50}/t`, ts: i, value: i }, 1000 + i, `client:1:${i}`);
      journal.whenDurable(() => acks.push(i));
    } else journal.append({ stream: `d${i % 50}/t`, ts: i, value: i }, 1000 + i);
  }
  assert.ok(journal.held <= 20_000, `the bound holds (${journal.held} held)`);
  assert.ok(journal.stats.dropped >= N - 20_000, `the rest dropped and counted (${journal.stats.dropped})`);
  assert.ok(journal.stats.reencoded <= 20_000, `drops do not encode again what stays (${journal.stats.reencoded} entries encoded again for ${journal.stats.dropped} dropped)`);
  assert.equal(acks.length, 0, 'no PUBACK while nothing is durable');

  full = false;
  t.mock.timers.tick(1000);
  assert.equal(acks.length, N / 1000, 'every QoS 1 delivery kept and acknowledged once durable');
  const values = [...readJournal(outbox.database, 0)].flatMap((e) => ('reading' in e ? [e.reading.value] : []));
  assert.equal(values.length + journal.stats.dropped, N, 'every reading journaled or counted');
  assert.ok(
    values.every((v, i) => i === 0 || v > values[i - 1]!),
    'in order',
  );
  for (const a of acks) assert.ok(values.includes(a), `QoS 1 reading ${a} journaled`);
  assert.ok(values.slice(-1000).every((v, i, a) => i === 0 || v === a[i - 1]! + 1), 'the newest kept, none missing');
  const rows = outbox.database.prepare('SELECT count(*) FROM journal_blocks').pluck().get() as number;
  assert.ok(rows > 1, `one row per sealed block (${rows})`);
  journal.close();
  outbox.close();
});

test('journal: sealed blocks on a nearly full disk: the oldest entries that fit are written, across blocks; the rest follow in order once there is room', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { dir, cleanup } = tempDir('edgewise-journal-');
  t.after(cleanup);
  const outbox = Outbox.open({ config: outboxConfig(), dataDir: dir, gatewayId: 'gw', log: silentLogger() });
  const db = outbox.database;
  let room: number | 'full' = 'full';
  const journal: IngestJournal = new IngestJournal({
    lastPos: 0,
    maxWait: 5,
    unackedWait: 5,
    maxPending: 100, // sealed every 10 entries while commits fail
    commit: () => {
      if (room === 'full') throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      const r = room;
      db.transaction(() => journal.write(db, [], r))();
      journal.committed();
    },
    onError: () => {},
  });
  const stored = () => [...readJournal(db, 0)].map((e) => ('reading' in e ? e.reading.value : NaN));
  for (let i = 1; i <= 5; i++) journal.append({ stream: 'a/t', ts: i, value: i }, 1000);
  journal.commitNow(); // fails: from now on what is held is sealed
  for (let i = 6; i <= 35; i++) journal.append({ stream: `d${i % 3}/t`, ts: i, value: i }, 1000);
  assert.equal(journal.held, 35);

  room = 2 * 48 + 12 * 31; // two rows' overhead and about a dozen entries
  t.mock.timers.tick(1000);
  const first = stored();
  assert.ok(first.length >= 8 && first.length <= 14, `the oldest that fit (${first.length})`);
  assert.deepEqual(
    first,
    Array.from({ length: first.length }, (_, i) => i + 1),
  );
  assert.equal(journal.held, 35 - first.length);

  room = Infinity;
  t.mock.timers.tick(1000);
  assert.deepEqual(
    stored(),
    Array.from({ length: 35 }, (_, i) => i + 1),
    'all of them, in order, none twice',
  );
  assert.equal(journal.held, 0);
  assert.equal(journal.stats.dropped, 0);
  journal.close();
  outbox.close();
});
