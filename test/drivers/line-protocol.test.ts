import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MqttIngest } from '../../drivers/mqtt/index.js';
import { lineTimeMs, parseLines } from '../../drivers/common/line-protocol.js';
import { mqttConfigSchema } from '../helpers/schemas.js';
import type { MqttConfig } from '../../drivers/mqtt/config.js';
import { makeCtx } from './helpers.js';

const NOW = Date.UTC(2026, 11, 2, 12);

function ingest(cfg: Record<string, unknown>, messages: Array<[string, string]>) {
  const ctx = makeCtx(() => NOW);
  const m = new MqttIngest(mqttConfigSchema.parse(cfg) as MqttConfig, ctx);
  for (const [topic, payload] of messages) m.handle(topic, Buffer.from(payload));
  return { readings: ctx.readings, by: Object.fromEntries(ctx.readings.map((r) => [r.stream, r.value])), drops: ctx.drops, ingest: m };
}

test('line protocol: the forms of the InfluxDB reference (tags, field types, escapes, optional timestamp)', () => {
  const ok = (line: string) => {
    const [r] = parseLines(line);
    assert.ok(r && 'point' in r, `${line}: ${r && 'error' in r ? r.error : 'nothing'}`);
    return r.point;
  };
  assert.deepEqual(ok('weather,location=us-midwest temperature=82 1465839830100400200'), {
    measurement: 'weather',
    tags: [['location', 'us-midwest']],
    fields: [['temperature', 82]],
    ts: Number('1465839830100400200'), // as parsed: past 2^53 a double holds it to ~256 ns
  });
  assert.deepEqual(ok('m f=1i,u=7u,x=-1.5e3,b=t,B=FALSE,s="a \\"quoted\\" \\\\ string, with = and spaces"').fields, [
    ['f', 1],
    ['u', 7],
    ['x', -1500],
    ['b', true],
    ['B', false],
    ['s', 'a "quoted" \\ string, with = and spaces'],
  ]);
  const esc = ok('my\\ meas\\,urement,tag\\ key=tag\\,value\\=x field\\ key=1');
  assert.equal(esc.measurement, 'my meas,urement');
  assert.deepEqual(esc.tags, [['tag key', 'tag,value=x']]);
  assert.deepEqual(esc.fields, [['field key', 1]]);
  assert.equal(ok('m v=1').ts, undefined);
  for (const [bad, why] of [
    ['m', /no fields/],
    ['m,t v=1', /tag "t" has no value/],
    ['m v=', /not a number/],
    ['m v=abc', /not a number/],
    ['m v="open', /string not closed/],
    ['m v=1 soon', /not an integer timestamp/],
    ['m v=1e999', /out of range/],
  ] as const) {
    const [r] = parseLines(bad);
    assert.ok(r && 'error' in r, bad);
    assert.match(r.error, why, bad);
  }
  // The writer's precision is not in the line: the size of the number tells it.
  const t = Date.UTC(2026, 11, 2, 12, 0, 0, 123);
  assert.equal(lineTimeMs(t * 1e6), t);
  assert.equal(lineTimeMs(t * 1e3), t);
  assert.equal(lineTimeMs(t), t);
  assert.equal(lineTimeMs(Math.floor(t / 1000)), t - 123);
});

test('line protocol over MQTT, as Telegraf\'s MQTT output sends it: one stream per measurement, tag set and field, at the line\'s time', () => {
  const ts = (BigInt(NOW) * 1_000_000n).toString(); // in ns, as Telegraf writes it
  const { by, readings, drops, ingest: m } = ingest({ topics: ['telegraf/{device}/+'] }, [
    [
      'telegraf/plc-gw/cpu',
      `cpu,cpu=cpu0,host=plc-gw usage_idle=97.5,usage_user=1.5 ${ts}\ncpu,cpu=cpu-total,host=plc-gw usage_idle=98.1,usage_user=1.1 ${ts}\n`,
    ],
    ['telegraf/plc-gw/mem', `mem,host=plc-gw available=812345678i,used_percent=61.2,swap="none" ${ts}`],
    ['telegraf/plc-gw/modbus', `modbus,name=pump-3,slave_id=1,type=holding_register flow=12.5,running=true ${ts}`],
  ]);
  assert.equal(drops.total(), 0);
  assert.equal(by['plc-gw/cpu_cpu0_usage_idle'], 97.5);
  assert.equal(by['plc-gw/cpu_cpu-total_usage_idle'], 98.1, 'each CPU its own stream (host is not in the name)');
  assert.equal(by['plc-gw/mem_available'], 812345678);
  assert.equal(by['plc-gw/modbus_pump-3_1_holding_register_running'], 1, 'a boolean is 1/0');
  assert.equal(m.fieldsIgnored, 1, 'the string field is counted as ignored');
  assert.ok(readings.every((r) => r.ts === Date.UTC(2026, 11, 2, 12)), 'ns timestamps read as ns');
  const noTime = ingest({ topics: ['t/{device}'] }, [['t/d', 'env temp=21.5']]);
  assert.deepEqual(noTime.readings, [{ stream: 'd/env_temp', ts: NOW, value: 21.5 }]);
});

test('line protocol: a bad line is dropped with its line number and the others are kept; a name too long for a stream is dropped with it; text that is not line protocol stays not_a_number', () => {
  const { by, drops } = ingest({ topics: ['t/{device}'] }, [['t/d', 'env temp=21.5\nenv temp=\nenv hum=40\n# a comment\n']]);
  assert.deepEqual(by, { 'd/env_temp': 21.5, 'd/env_hum': 40 });
  assert.equal(drops.count('bad_payload'), 1);
  assert.match(drops.samplesFor('bad_payload')[0]?.detail ?? '', /line protocol, line 2: field "temp" = {2}is not a number/);
  const long = ingest({ topics: ['t/{device}'] }, [['t/d', `disk,path=/${'x'.repeat(70)} free=1`]]);
  assert.equal(long.drops.count('bad_name'), 1);
  assert.match(long.drops.samplesFor('bad_name')[0]?.detail ?? '', /tagexclude/);
  const words = ingest({ topics: ['t/{device}'] }, [['t/d', 'hello world'], ['t/d', 'OPEN']]);
  assert.equal(words.drops.count('not_a_number'), 2);
  const comments = ingest({ topics: ['t/{device}'] }, [['t/d', '# only a comment']]);
  assert.equal(comments.drops.count('bad_payload'), 1, 'a payload with no reading is not a silent loss');
});
