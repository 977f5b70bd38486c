import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../src/core/log.js';
import { MessageIds } from '../../src/outbox/ids.js';
import { Outbox } from '../../src/outbox/index.js';
import { aggregate, alert, outboxConfig, raw, tempDir } from '../upstream/helpers.js';

function payloads(o: Outbox) {
  return [2, 1, 0].flatMap((p) => o.readFrom(p as 0 | 1 | 2, 0, 1000)).map((r) => JSON.parse(r.payload.toString()) as { id: string; seq: number; stream: string });
}

test('message ids say what a record is; readings with one timestamp get an ordinal; an alert numbers its active updates', () => {
  const { dir, cleanup } = tempDir();
  try {
    const o = Outbox.open({ config: outboxConfig(), dataDir: dir, gatewayId: 'gw', log: silentLogger() });
    o.put(aggregate('d/t', 3));
    o.put(raw('d/r', 5));
    o.put(raw('d/r', 5)); // the same time twice in a row
    o.put(raw('d/r', 6));
    const a = alert('d/a', 1);
    o.put(a);
    if (a.kind === 'alert') {
      o.put({ ...a, alert: { ...a.alert, state: 'active' } });
      o.put({ ...a, alert: { ...a.alert, state: 'active' } });
      o.put({ ...a, alert: { ...a.alert, state: 'cleared', end: 9 } });
    }
    o.flush();
    assert.deepEqual(payloads(o).map((p) => p.id), [
      'p1/alerts/alert/a1/raised@1',
      'p1/alerts/alert/a1/active@1',
      'p1/alerts/alert/a1/active@1#1',
      'p1/alerts/alert/a1/cleared@9',
      'p1/upstream/aggregate/d/t@3000-4000',
      'p1/raw/reading/d/r@5',
      'p1/raw/reading/d/r@5#1',
      'p1/raw/reading/d/r@6',
    ]);
    o.close();
  } finally {
    cleanup();
  }
});

test('with checkpoints (trackIds), a second copy of an id is refused and counted, and seq stays gap-free', () => {
  const { dir, cleanup } = tempDir();
  try {
    const o = Outbox.open({ config: outboxConfig(), dataDir: dir, gatewayId: 'gw', log: silentLogger() });
    o.trackIds();
    for (const i of [1, 2, 3, 1, 4, 2]) o.put(aggregate('d/t', i)); // 1 and 2 come again (not in a row: no ordinal)
    o.flush();
    o.close();
    // The ids survive a restart until the next checkpoint.
    const o2 = Outbox.open({ config: outboxConfig(), dataDir: dir, gatewayId: 'gw', log: silentLogger() });
    o2.trackIds();
    o2.put(aggregate('d/t', 3));
    o2.put(aggregate('d/t', 5));
    o2.flush();
    assert.deepEqual(payloads(o2).map((p) => p.seq), [1, 2, 3, 4, 5]);
    assert.equal(o.stats().duplicateIds + o2.stats().duplicateIds, 3);
    // After a checkpoint they are forgotten (a replay cannot produce them any more).
    o2.checkpoint({ write() {}, committed() {} });
    o2.put(aggregate('d/t', 3));
    o2.flush();
    assert.equal(payloads(o2).length, 6);
    o2.close();
  } finally {
    cleanup();
  }
});

test('message ids: a topic silent for 24 h is forgotten at a checkpoint (devices that come and go do not grow the state); one in use is kept, and a replay from the saved state numbers as the live run', () => {
  const H = 3_600_000;
  const id = (ids: MessageIds, stream: string, ts: number) => ids.idOf(raw(stream, ts), 'reading', stream, stream);
  // 5,000 devices a day for three days, each sending twice with one timestamp and never again; a checkpoint every hour
  const ids = new MessageIds();
  let most = 0;
  for (let hour = 0; hour < 72; hour++) {
    for (let i = 0; i < 5000 / 24; i++) {
      const dev = `dev-${hour}-${i}`;
      assert.equal(id(ids, dev, hour), `p1/raw/reading/${dev}@${hour}`);
      assert.equal(id(ids, dev, hour), `p1/raw/reading/${dev}@${hour}#1`);
    }
    ids.snapshot(hour * H);
    most = Math.max(most, ids.size);
  }
  // kept: those of the last 24 hours (5,000 and the hour's), not the 15,000 seen
  assert.ok(most <= 5000 + 5000 / 24 + 1 && ids.size <= 5000 + 5000 / 24 + 1, `${most}, ${ids.size}`);
  // a stream in use all along is never forgotten, however long its checkpoints go on
  const kept = new MessageIds();
  for (let hour = 0; hour < 72; hour++) {
    id(kept, 'steady', 7);
    kept.snapshot(hour * H);
  }
  assert.equal(id(kept, 'steady', 7), 'p1/raw/reading/steady@7#72');
  // one silent for 23 hours is kept; at 24 it is gone (a same-time reading after that is taken as new)
  const quiet = new MessageIds();
  id(quiet, 'q', 1);
  quiet.snapshot(0);
  quiet.snapshot(23 * H);
  assert.equal(quiet.size, 1);
  quiet.snapshot(24 * H);
  assert.equal(quiet.size, 0);
  assert.equal(id(quiet, 'q', 1), 'p1/raw/reading/q@1');
  // replay: the state as saved at a checkpoint, then the same records, gives the same ids as the live run
  const live = new MessageIds();
  id(live, 'a', 1);
  id(live, 'b', 2);
  live.snapshot(0);
  const saved = live.snapshot(30 * H); // b and a idle past 24 h: forgotten as the state is saved
  const replay = new MessageIds();
  replay.restore(JSON.parse(JSON.stringify(saved)));
  for (const [s, ts] of [['a', 1], ['b', 3], ['a', 1]] as Array<[string, number]>) assert.equal(id(replay, s, ts), id(live, s, ts));
  // state saved before the last-seen time was kept: taken as seen at the next checkpoint
  const old = new MessageIds();
  old.restore([['p1\u0000raw\u0000x', 'p1/raw/reading/x@4', 2]]);
  old.snapshot(100 * H);
  assert.equal(old.size, 1);
  old.snapshot(123 * H);
  assert.equal(old.size, 1);
  old.snapshot(124 * H);
  assert.equal(old.size, 0);
});

test('message ids: beyond the topics kept at most, the longest idle are forgotten at a checkpoint, never one used since the last; a replay numbers as the live run', () => {
  const M = 60_000;
  const id = (ids: MessageIds, stream: string, ts: number) => ids.idOf(raw(stream, ts), 'reading', stream, stream);
  // 10 new devices a minute, each sending once; at most 50 topics kept
  const ids = new MessageIds(50);
  for (let minute = 0; minute < 30; minute++) {
    for (let i = 0; i < 10; i++) id(ids, `dev-${minute}-${i}`, minute);
    id(ids, 'steady', 7);
    ids.snapshot(minute * M);
    assert.ok(ids.size <= 50, `${ids.size} kept at minute ${minute}`);
  }
  assert.equal(ids.forgottenEarly, 30 * 10 + 1 - 50);
  // the longest idle went first: the last minutes' devices are kept, the first ones forgotten
  assert.equal(id(ids, 'dev-29-0', 29), 'p1/raw/reading/dev-29-0@29#1');
  assert.equal(id(ids, 'dev-0-0', 0), 'p1/raw/reading/dev-0-0@0');
  // one used at every checkpoint is never forgotten
  assert.equal(id(ids, 'steady', 7), 'p1/raw/reading/steady@7#30');
  // topics in use since the last checkpoint are kept even beyond the cap
  const busy = new MessageIds(5);
  for (let i = 0; i < 20; i++) id(busy, `b-${i}`, 1);
  busy.snapshot(0);
  assert.equal(busy.size, 20);
  for (let i = 0; i < 20; i++) assert.equal(id(busy, `b-${i}`, 1), `p1/raw/reading/b-${i}@1#1`);
  // replay from the state saved as the cap forgot: the same ids
  const live = new MessageIds(2);
  for (const s of ['a', 'b', 'c']) id(live, s, 1);
  live.snapshot(0);
  id(live, 'c', 1);
  const saved = live.snapshot(M); // a (idle longest, with b) over the cap: forgotten as the state is saved
  assert.equal(live.size, 2);
  const replay = new MessageIds(2);
  replay.restore(JSON.parse(JSON.stringify(saved)));
  for (const [s, ts] of [['a', 1], ['c', 1], ['b', 1]] as Array<[string, number]>) assert.equal(id(replay, s, ts), id(live, s, ts));
});
