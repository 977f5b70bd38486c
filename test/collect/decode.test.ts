import assert from 'node:assert/strict';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { decodeMessage, decodePublish } from '../../src/collect/decode.js';
import { batchTopic, COMPRESSIONS, encodeBatch } from '../../src/upstream/batch.js';
import { encodePayload, messageTopic, statusTopic, upstreamKindOf } from '../../src/core/payload.js';
import { aggregate, alert, raw } from '../upstream/helpers.js';

const env = { gateway: 'van+17', id: 'e1-7', epoch: 'e1', seq: 7, emitted: 1_718_000_000_000 };
const topicOf = (e: Parameters<typeof upstreamKindOf>[0]) => {
  const { kind, stream } = upstreamKindOf(e);
  return messageTopic('edgewise/v1', env.gateway, kind, stream);
};

test('payloads from the encoder land as rows of their table, keyed by (gateway, id)', () => {
  const a = aggregate('pump-1/vib', 3);
  const d = decodeMessage(topicOf(a), encodePayload(a, env), 0);
  assert.equal(d.table, 'aggregates');
  assert.equal(d.row.gateway, 'van+17');
  assert.equal(d.row.id, 'e1-7');
  assert.equal(d.row.seq, 7);
  assert.equal(d.row.topic, 'edgewise/v1/van_17/aggregate/pump-1/vib');
  assert.deepEqual(d.row.agg_values, { mean: 3, max: 4 });
  assert.equal(d.row.window_start, new Date(3000).toISOString());
  const al = alert('bed-1/spo2', 5);
  const da = decodeMessage(topicOf(al), encodePayload(al, env), 0);
  assert.equal(da.table, 'alerts');
  assert.equal(da.row.alert_id, 'a5');
  assert.equal(da.row.judged, null);
  // an alert judged after it began (a harsh brake from before the vehicle's forward was known): when
  const late = { ...al, alert: { ...(al as { alert: object }).alert, judged: 65_000 } } as typeof al;
  assert.equal(decodeMessage(topicOf(late), encodePayload(late, env), 0).row.judged, new Date(65_000).toISOString());
  const r = raw('m/t', 9);
  const dr = decodeMessage(topicOf(r), encodePayload(r, env), 0);
  assert.equal(dr.table, 'readings');
  assert.equal(dr.row.kind, 'reading');
  const st = decodeMessage(statusTopic('edgewise/v1', 'van+17'), Buffer.from('{"schema":1,"gateway":"van+17","state":"offline"}'), 0);
  assert.deepEqual(st, { table: 'gateway_status', row: { gateway: 'van+17', state: 'offline', since: null, updated: new Date(0).toISOString() } });
});

test('what is not the contract is rejected with the reason, never thrown', () => {
  const a = aggregate('pump-1/vib', 3);
  const good = encodePayload(a, env);
  const cases: [string, Buffer, RegExp][] = [
    [topicOf(a), Buffer.from('{"schema":1'), /not JSON/],
    [topicOf(a), Buffer.from(JSON.stringify({ ...JSON.parse(good.toString()), seq: 0 })), /aggregate payload: seq/],
    [topicOf(a).replace('/aggregate/', '/alert/'), good, /alert payload: kind/],
    [topicOf(a).replace('van_17', 'van-18'), good, /payload gateway "van\+17" does not match the topic/],
    ['other/v1/van_17/aggregate/pump-1/vib', good, /not under the prefix/],
    ['edgewise/v1/van_17/stats', Buffer.from('{}'), /unknown kind "stats"/],
  ];
  for (const [topic, payload, re] of cases) {
    const d = decodeMessage(topic, payload, 0);
    assert.equal(d.table, 'rejects', topic);
    assert.match(String(d.row.error), re);
    assert.equal(d.row.payload, payload, 'kept as received');
  }
});

test('a batch lands one row per record, with the topic each record would have had alone, for every compression', () => {
  const emissions = [aggregate('pump-1/vib', 3), alert('bed-1/spo2', 5), raw('m/t', 9)];
  const payloads = emissions.map((e, i) => encodePayload(e, { ...env, id: `r${i}`, seq: i + 1 }));
  for (const c of COMPRESSIONS) {
    const topic = batchTopic('edgewise/v1', env.gateway, c);
    const rows = decodePublish(topic, encodeBatch(env.gateway, payloads, c), 0);
    assert.deepEqual(
      rows.map((d) => [d.table, d.row.id, d.row.seq, d.row.topic]),
      [
        ['aggregates', 'r0', 1, 'edgewise/v1/van_17/aggregate/pump-1/vib'],
        ['alerts', 'r1', 2, 'edgewise/v1/van_17/alert/bed-1/spo2'],
        ['readings', 'r2', 3, 'edgewise/v1/van_17/reading/m/t'],
      ],
      c,
    );
    // The same rows as one by one.
    for (const [i, e] of emissions.entries()) assert.deepEqual(rows[i], decodePublish(topicOf(e), payloads[i]!, 0)[0]);
  }
});

test('a bad batch is one reject with the reason; a bad record in a good batch is a reject of its own', () => {
  const good = encodePayload(aggregate('pump-1/vib', 3), env);
  const bomb = zlib.gzipSync(Buffer.alloc(20_000, 32));
  const cases: [string, Buffer, RegExp][] = [
    ['edgewise/v1/van_17/batch/gzip', Buffer.from('not gzip'), /not valid gzip data/],
    ['edgewise/v1/van_17/batch/gzip', bomb, /gzip batch inflates beyond 10000 bytes/],
    ['edgewise/v1/van_17/batch/zip', good, /unknown batch compression "zip"/],
    ['edgewise/v1/van_17/batch', Buffer.from('[1,2]'), /not a batch document/],
    ['edgewise/v1/van_17/batch', Buffer.from('{"schema":1,"records":'), /batch is not JSON/],
    ['edgewise/v1/van-18/batch', encodeBatch(env.gateway, [good], 'none'), /batch gateway "van\+17" does not match the topic/],
  ];
  for (const [topic, payload, re] of cases) {
    const d = decodePublish(topic, payload, 0, 'edgewise/v1', 10_000);
    assert.equal(d.length, 1, topic);
    assert.equal(d[0]!.table, 'rejects', topic);
    assert.match(String(d[0]!.row.error), re);
  }
  const other = Buffer.from(JSON.stringify({ ...JSON.parse(good.toString()), gateway: 'van-18' }));
  const rows = decodePublish('edgewise/v1/van_17/batch', encodeBatch(env.gateway, [good, Buffer.from('{"kind":"stats"}'), other], 'none'), 0);
  assert.deepEqual(
    rows.map((d) => d.table),
    ['aggregates', 'rejects', 'rejects'],
  );
  assert.match(String(rows[1]!.row.error), /batch record 1: unknown kind "stats"/);
  assert.match(String(rows[2]!.row.error), /batch record 2: record gateway "van-18" is not the batch's "van\+17"/);
});
