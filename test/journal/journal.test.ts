import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../src/core/log.js';
import type { Reading } from '../../src/core/reading.js';
import { IngestJournal, readJournal } from '../../src/journal/journal.js';
import { Outbox } from '../../src/outbox/index.js';
import { outboxConfig, tempDir } from '../upstream/helpers.js';

test('journal: every reading comes back exactly; fields and tags as JSON text, what JSON would change (NaN, Infinity, -0, other properties) whole', (t) => {
  const { dir, cleanup } = tempDir('edgewise-journal-');
  t.after(cleanup);
  const outbox = Outbox.open({ config: outboxConfig(), dataDir: dir, gatewayId: 'gw', log: silentLogger() });
  const journal = new IngestJournal({ lastPos: 0, maxWait: 5, unackedWait: 5, commit: () => outbox.commitParts(), onError: (err) => assert.fail(String(err)) });
  outbox.addTxPart(journal);
  const T = 1_767_225_600_123.5;
  const cases: Array<{ r: Reading; stored: 'columns' | 'json' | 'whole' }> = [
    { r: { stream: 'a/t', ts: T, value: 21.5 }, stored: 'columns' },
    { r: { stream: 'a/t', ts: T, value: 21.5, fields: { t: T, fix: 'gps', ok: true } }, stored: 'json' },
    { r: { stream: 'a/t', ts: T, value: 1, tags: { unit: '°C' } }, stored: 'json' },
    { r: { stream: 'a/t', ts: T, value: 1, fields: { n: 3 }, tags: { site: 'w' } }, stored: 'json' },
    { r: { stream: 'a/t', ts: T, value: NaN }, stored: 'whole' },
    { r: { stream: 'a/t', ts: T, value: 1, fields: { x: NaN } }, stored: 'whole' },
    { r: { stream: 'a/t', ts: T, value: 1, fields: { x: Infinity } }, stored: 'whole' },
    { r: { stream: 'a/t', ts: T, value: 1, fields: { x: -0 } }, stored: 'whole' },
    { r: { stream: 'a/t', ts: T, value: 1, odd: [1] } as unknown as Reading, stored: 'whole' },
  ];
  for (const c of cases) journal.append(c.r, 1000);
  journal.commitNow();
  const back = [...readJournal(outbox.database, 0)];
  assert.deepEqual(
    back.map((e) => ('reading' in e ? e.reading : e)),
    cases.map((c) => c.r),
  );
  const kinds = (outbox.database.prepare('SELECT typeof(extra) AS k FROM journal ORDER BY pos').pluck().all() as string[]).map((k) => ({ null: 'columns', text: 'json', blob: 'whole' })[k]);
  assert.deepEqual(kinds, cases.map((c) => c.stored), 'a reading with fields is kept as JSON (a tenth of the cost of v8.serialize)');
  journal.close();
  outbox.close();
});

test('journal: entries nobody waits for commit within unackedWait; once an acknowledgement waits, within maxWait', (t) => {
  const { dir, cleanup } = tempDir('edgewise-journal-');
  t.after(cleanup);
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const outbox = Outbox.open({ config: outboxConfig(), dataDir: dir, gatewayId: 'gw', log: silentLogger() });
  const journal = new IngestJournal({ lastPos: 0, maxWait: 5, unackedWait: 100, commit: () => outbox.commitParts(), onError: (err) => assert.fail(String(err)) });
  outbox.addTxPart(journal);
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
