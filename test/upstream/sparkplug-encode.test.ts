/** The Sparkplug B mapping of upstream records (docs/upstream.md, "Sparkplug B"): names, datatypes, timestamps, properties. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Emission } from '../../src/core/records.js';
import { encodePayload } from '../../src/core/payload.js';
import {
  decodeSparkplugPayload,
  encodeSparkplugRecord,
  parseRecord,
  recordMetrics,
  SparkplugAliases,
  sparkplugDevice,
  sparkplugId,
  type UMetric,
} from '../../src/upstream/sparkplug/encode.js';

const env = { gateway: 'van-17', epoch: 'e1', emitted: 1718000060123 };

function record(e: Emission, id: string, seq = 7) {
  return parseRecord(encodePayload(e, { ...env, id, seq }));
}

/** Decode a payload and turn Long values into numbers for comparisons. */
function decoded(bytes: Uint8Array) {
  const p = decodeSparkplugPayload(bytes);
  const n = (v: unknown) => (v && typeof v === 'object' && 'toNumber' in v ? (v as { toNumber(): number }).toNumber() : v);
  return {
    seq: n(p.seq) as number,
    timestamp: n(p.timestamp) as number,
    metrics: (p.metrics ?? []).map((m: UMetric) => ({
      name: m.name,
      type: m.type,
      value: n(m.value),
      timestamp: n(m.timestamp),
      historical: m.isHistorical === true,
      props: m.properties ? Object.fromEntries(Object.entries(m.properties).map(([k, v]) => [k, { type: v.type, value: n(v.value) }])) : undefined,
    })),
  };
}

describe('sparkplug B mapping', () => {
  it('an aggregate: count (UInt32) first with the record properties, then each value as a Double, all at the window end', () => {
    const r = record(
      { kind: 'aggregate', pipeline: 'telematics', output: 'upstream', result: { stream: 'engine/coolant_temp', window: 'tumbling', start: 1000, end: 61_000, count: 60, values: { mean: 88.4, max: 91.2, p95: NaN } } },
      'telematics/upstream/aggregate/engine/coolant_temp@1000-61000',
    );
    const { topic, payload } = encodeSparkplugRecord(r, { groupId: 'plant', seq: 200, now: 5 });
    assert.equal(topic, 'spBv1.0/plant/DDATA/van-17/engine');
    const p = decoded(payload);
    assert.equal(p.seq, 200);
    assert.equal(p.timestamp, 5);
    assert.deepEqual(
      p.metrics.map((m) => [m.name, m.type, m.value, m.timestamp]),
      [
        ['aggregate/coolant_temp/count', 'UInt32', 60, 61_000],
        ['aggregate/coolant_temp/mean', 'Double', 88.4, 61_000],
        ['aggregate/coolant_temp/max', 'Double', 91.2, 61_000],
        ['aggregate/coolant_temp/p95', 'Double', null, 61_000],
      ],
    );
    assert.deepEqual(p.metrics[0]!.props, {
      id: { type: 'String', value: 'telematics/upstream/aggregate/engine/coolant_temp@1000-61000' },
      seq: { type: 'UInt64', value: 7 },
      start: { type: 'DateTime', value: 1000 },
      window: { type: 'String', value: 'tumbling' },
    });
    assert.equal(p.metrics[1]!.props, undefined, 'properties travel once, on the first metric');
    assert.ok(p.metrics.every((m) => !m.historical));
  });

  it('a partial aggregate says so; a historical one has is_historical on every metric', () => {
    const r = record({ kind: 'aggregate', pipeline: 'p', output: 'o', result: { stream: 'd/m', window: 'count', start: 1, end: 2, count: 1, values: { mean: 1 }, partial: true } }, 'x~p');
    const p = decoded(encodeSparkplugRecord(r, { historical: true }).payload);
    const withCount = record({ kind: 'aggregate', pipeline: 'p', output: 'o', result: { stream: 'd/m', window: 'tumbling', start: 1, end: 2, count: 3, values: { count: 3, mean: 1 } } }, 'c');
    assert.deepEqual(recordMetrics(withCount).map((m) => m.name), ['aggregate/m/count', 'aggregate/m/mean'], 'a count aggregate is the window count, once');
    assert.deepEqual(p.metrics[0]!.props!.partial, { type: 'Boolean', value: true });
    assert.ok(p.metrics.length === 2 && p.metrics.every((m) => m.historical));
  });

  it('an alert: state first with id, alert_id, detector and start; cleared alerts are stamped at their end', () => {
    const a: Emission = {
      kind: 'alert',
      pipeline: 'vitals',
      output: 'alerts',
      alert: { id: 'threshold:bed-12/spo2:1000', state: 'cleared', stream: 'bed-12/spo2', detector: 'threshold', severity: 'critical', score: 1, start: 1000, end: 7000, value: 97, reason: 'inside 97 (limit 90)' },
    };
    const { topic, payload } = encodeSparkplugRecord(record(a, 'vitals/alerts/alert/threshold:bed-12/spo2:1000/cleared@7000'));
    assert.equal(topic, 'spBv1.0/edgewise/DDATA/van-17/bed-12');
    const p = decoded(payload);
    assert.deepEqual(
      p.metrics.map((m) => [m.name, m.type, m.value, m.timestamp]),
      [
        ['alert/spo2/state', 'String', 'cleared', 7000],
        ['alert/spo2/severity', 'String', 'critical', 7000],
        ['alert/spo2/score', 'Double', 1, 7000],
        ['alert/spo2/value', 'Double', 97, 7000],
        ['alert/spo2/reason', 'String', 'inside 97 (limit 90)', 7000],
      ],
    );
    assert.deepEqual(Object.keys(p.metrics[0]!.props!), ['id', 'seq', 'alert_id', 'detector', 'start']);
    assert.equal(p.metrics[0]!.props!.alert_id!.value, 'threshold:bed-12/spo2:1000');
    // raised: stamped at its start, with a baseline when the detector has one
    const raised = decoded(encodeSparkplugRecord(record({ ...a, alert: { ...a.alert, state: 'raised', end: undefined, baseline: 95 } } as Emission, 'r')).payload);
    assert.equal(raised.metrics[0]!.timestamp, 1000);
    assert.deepEqual(raised.metrics.find((m) => m.name === 'alert/spo2/baseline')?.value, 95);
    // judged after it began (a harsh brake from before the vehicle's forward was known): when, as a property
    const late = decoded(encodeSparkplugRecord(record({ ...a, alert: { ...a.alert, state: 'raised', end: undefined, judged: 65_000 } } as Emission, 'l')).payload);
    assert.deepEqual(late.metrics[0]!.props!.judged, { type: 'DateTime', value: 65_000 });
  });

  it('a raw reading is its metric at the reading time, fields and tags as properties; a late one goes under late/', () => {
    const e: Emission = { kind: 'reading', pipeline: 'raw', output: 'raw', reading: { stream: 'gps/speed', ts: 42, value: 13.5, fields: { fix: 3, ok: true }, tags: { unit: 'm/s', id: 'ignored' } } };
    const p = decoded(encodeSparkplugRecord(record(e, 'raw/raw/reading/gps/speed@42')).payload);
    assert.deepEqual(p.metrics.map((m) => [m.name, m.type, m.value, m.timestamp]), [['speed', 'Double', 13.5, 42]]);
    assert.deepEqual(p.metrics[0]!.props, {
      id: { type: 'String', value: 'raw/raw/reading/gps/speed@42' },
      seq: { type: 'UInt64', value: 7 },
      fix: { type: 'Double', value: 3 },
      ok: { type: 'Boolean', value: true },
      unit: { type: 'String', value: 'm/s' },
    });
    const late = decoded(encodeSparkplugRecord(record({ kind: 'late', pipeline: 'p', output: 'o', reading: { stream: 'gps/speed', ts: 1, value: 2 }, watermark: 99 }, 'l')).payload);
    assert.equal(late.metrics[0]!.name, 'late/speed');
    assert.deepEqual(late.metrics[0]!.props!.watermark, { type: 'DateTime', value: 99 });
  });

  it('ids are single topic levels; a stream without a metric part maps to "value"', () => {
    assert.equal(sparkplugId('site/a+b#c'), 'site_a_b_c');
    assert.equal(sparkplugDevice('pump+1/vib/x'), 'pump_1');
    const m = recordMetrics(record({ kind: 'reading', pipeline: 'p', output: 'o', reading: { stream: 'solo', ts: 1, value: 1 } }, 'i'));
    assert.equal(m[0]!.name, 'value');
  });

  it('a record with a missing field is refused with its id and the field, not encoded half', () => {
    const r = parseRecord(JSON.stringify({ id: 'gw/x', seq: 1, kind: 'aggregate', stream: 'd/m', data: { start: 1, count: 1, values: {} } }));
    assert.throws(() => recordMetrics(r), /record gw\/x: aggregate without data\.end/);
    assert.throws(() => parseRecord('{"no":1}'), /not an upstream record/);
  });

  it('the decoded DDATA in docs/upstream.md is what the gateway sends for the aggregate of the JSON example there', () => {
    const doc = readFileSync('docs/upstream.md', 'utf8');
    const blocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const jsonExample = JSON.parse(blocks.find((b) => b.includes('"kind":"aggregate"'))!);
    const spExample = JSON.parse(blocks.find((b) => b.includes('"aggregate/coolant_temp/count"'))!);
    const p = decoded(encodeSparkplugRecord(parseRecord(JSON.stringify(jsonExample)), { seq: spExample.seq, now: spExample.timestamp }).payload);
    const docMetrics = spExample.metrics.map((m: { name: string; type: string; value: unknown; timestamp: number; properties?: Record<string, { type: string; value: unknown }> }) => ({
      name: m.name,
      type: m.type,
      value: m.value,
      timestamp: m.timestamp,
      historical: false,
      props: m.properties,
    }));
    assert.deepEqual(p.metrics, docMetrics);
  });

  it('with the node’s aliases a DDATA names metrics by number, declared once per device, never reused', () => {
    const r = record({ kind: 'aggregate', pipeline: 'p', output: 'o', result: { stream: 'pump-1/vib', window: 'tumbling', start: 0, end: 1000, count: 10, values: { mean: 1, max: 2, p95: 2 } } }, 'p/o/aggregate/pump-1/vib@0-1000');
    const aliases = new SparkplugAliases();
    const named = encodeSparkplugRecord(r, { now: 0 }).payload;
    const byAlias = encodeSparkplugRecord(r, { now: 0, aliases }).payload;
    const m = decodeSparkplugPayload(byAlias).metrics!;
    assert.deepEqual(m.map((x) => [x.name ?? null, Number(x.alias)]), [[null, 1], [null, 2], [null, 3], [null, 4]]);
    assert.ok(byAlias.length < named.length * 0.75, `${byAlias.length} B by alias vs ${named.length} B by name`);
    assert.equal(aliases.of('pump-2', 'aggregate/vib/count'), 5, 'unique across the node’s devices');
    aliases.forget('pump-1');
    assert.equal(aliases.of('pump-1', 'aggregate/vib/count'), 6, 'a device born again gets new aliases');
  });
});
