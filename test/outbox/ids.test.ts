import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../src/core/log.js';
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
