import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeMessage } from '../../src/collect/decode.js';
import { encodePayload, messageTopic, statusTopic, upstreamKindOf } from '../../src/upstream/payload.js';
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
