import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MqttIngest } from '../../drivers/mqtt/index.js';
import { mqttConfigSchema } from '../helpers/schemas.js';
import { type MqttConfig } from '../../drivers/mqtt/config.js';
import { compileTemplate, filterCovers, matchTemplate, templateError, topicMatches } from '../../drivers/mqtt/topic.js';
import { expandAcl } from '../../drivers/mqtt/broker.js';
import { makeCtx } from '../drivers/helpers.js';
import { runs, tried1 } from './runs.js';
import { hostileText, numberText, timestampValue } from './arbitraries.js';

/**
 * MQTT at the edge: payload decoding through MqttIngest (topic → stream, payload → readings),
 * topic templates, filter matching and ACL expansion, against random and half-valid input.
 */

const NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
const level = fc.oneof(fc.constantFrom('sensors', 'pump-1', 'temp', 'cmd', '+', '#', '', '$SYS', 'a b', 'x'.repeat(70)), hostileText(10));
const topic = fc.array(level, { minLength: 1, maxLength: 6 }).map((l) => l.join('/'));

const payload = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  numberText.map((s) => Buffer.from(s)),
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? '')),
  fc
    .dictionary(fc.oneof(fc.constantFrom('value', 'ts', 'time', 'timestamp', 'device', 'temp', 'hum'), hostileText(8)), fc.oneof(fc.double(), numberText, timestampValue, fc.boolean(), fc.constant(null), fc.jsonValue()), { maxKeys: 80 })
    .map((o) => Buffer.from(JSON.stringify(o))),
  hostileText(200).map((s) => Buffer.from(s)),
);

test('MQTT ingest: any topic and payload is readings, a counted drop or an ignored topic; the topic cache stays in its budget', () => {
  const cfg = mqttConfigSchema.parse({
    topics: ['sensors/{device}/{metric}', 'site/{device}/state', 'fixed/+/#'],
    device: 'gw',
    ignore_topics: ['cmd/#'],
    max_payload_bytes: 256,
    max_fields: 16,
    topic_cache_bytes: '64KB',
  }) as MqttConfig;
  const ctx = makeCtx(() => 1_700_000_000_000);
  const ingest = new MqttIngest(cfg, ctx);
  fc.assert(
    fc.property(fc.oneof(topic, fc.constantFrom('sensors/p1/temp', 'site/env-2/state', 'fixed/a/b/c', 'cmd/reboot')), payload, (t, p) => {
      tried1();
      const before = { readings: ctx.readings.length, drops: ctx.drops.total(), ignored: ingest.ignored, fields: ingest.fieldsIgnored };
      ingest.handle(t, p);
      const got = ctx.readings.slice(before.readings);
      for (const r of got) {
        const [device, metric, ...rest] = r.stream.split('/');
        assert.ok(NAME.test(device!) && NAME.test(metric!) && rest.length === 0, `stream ${r.stream}`);
        assert.ok(Number.isFinite(r.value) && Number.isFinite(r.ts));
      }
      const accounted = got.length > 0 || ctx.drops.total() > before.drops || ingest.ignored > before.ignored || ingest.fieldsIgnored > before.fields;
      assert.ok(accounted, `topic ${JSON.stringify(t)} payload ${JSON.stringify(p.toString())} vanished`);
      assert.ok(ingest.cacheBytes() <= 64 * 1024);
      ctx.readings.length = 0;
    }),
    { numRuns: runs(5000) },
  );
});

/** Reference semantics of an MQTT filter (MQTT 3.1.1 §4.7), written independently as a regular expression. */
function filterRegex(filter: string): RegExp {
  const parts = filter.split('/').map((l, i, all) => {
    if (l === '#' && i === all.length - 1) return i === 0 ? '(?!\\$)[^]*' : '[^]*';
    if (l === '+') return i === 0 ? '(?!\\$)[^/]*' : '[^/]*';
    return l.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  // "a/#" also matches "a" itself
  let src = parts.join('/');
  if (filter.endsWith('/#')) src = `${parts.slice(0, -1).join('/')}(?:/[^]*)?`;
  return new RegExp(`^${src}$`);
}

const filterLevel = fc.constantFrom('a', 'b', '+', '$SYS', '');
const filter = fc
  .tuple(fc.array(filterLevel, { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([l, hash]) => (hash ? [...l, '#'] : l).join('/'))
  .filter((f) => f !== '' && templateError(f.replace(/\$SYS/g, 's')) === undefined);
const plainTopic = fc.array(fc.constantFrom('a', 'b', 'c', '$SYS', ''), { minLength: 1, maxLength: 5 }).map((l) => l.join('/'));

test('topic filters: topicMatches agrees with an independent reading of the MQTT rules', () => {
  fc.assert(
    fc.property(fc.oneof(filter, fc.constant('#')), plainTopic, (f, t) => {
      tried1();
      assert.equal(topicMatches(f, t), filterRegex(f).test(t), `filter ${f} topic ${t}`);
    }),
    { numRuns: runs(5000) },
  );
});

test('ACL filters: when filterCovers(acl, sub), every topic the subscription matches is inside the ACL', () => {
  fc.assert(
    fc.property(filter, filter, plainTopic, (acl, sub, t) => {
      tried1();
      if (filterCovers(acl, sub) && topicMatches(sub, t)) assert.ok(topicMatches(acl, t), `acl ${acl} covers ${sub} but not topic ${t}`);
    }),
    { numRuns: runs(5000) },
  );
});

test('ACL %c/%u: any client id or username is refused or stays inside its own level', () => {
  const acl = { publish: ['sensors/%c/#', 'users/%u/+/x'], subscribe: ['cmd/%c/#'] };
  fc.assert(
    fc.property(fc.oneof(hostileText(12), fc.constantFrom('#', '+', '+/#', 'dev1', '$SYS', 'a/b', '\u0000')), fc.oneof(hostileText(12), fc.constantFrom('#', 'dev3')), plainTopic, (id, user, t) => {
      tried1();
      const e = expandAcl(acl, user, id);
      if (typeof e === 'string') return;
      for (const f of e.publish) {
        const root = f.startsWith('sensors/') ? `sensors/${id}/` : `users/${user}/`;
        for (const probe of [t, `sensors/dev1/${t}`, `users/dev1/${t}/x`, `sensors/${id}/${t}`]) {
          if (topicMatches(f, probe)) assert.ok(probe.startsWith(root), `filter ${f} (id ${JSON.stringify(id)}) matched ${probe}`);
        }
      }
      for (const f of e.subscribe) for (const sub of ['cmd/#', 'cmd/+/#', `cmd/${id}/#`]) if (filterCovers(f, sub)) assert.equal(sub, `cmd/${id}/#`);
    }),
    { numRuns: runs(5000) },
  );
});

test('topic templates: compile iff valid; a topic built from a template maps back to its device and metric', () => {
  const tplLevel = fc.constantFrom('sensors', 'site', '{device}', '{metric}', '+', 'x{device}', '#', 'a#', '');
  const name = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,12}$/);
  fc.assert(
    fc.property(fc.array(tplLevel, { minLength: 1, maxLength: 5 }), name, name, (levels, device, metric) => {
      tried1();
      const t = levels.join('/');
      const err = templateError(t);
      if (err !== undefined) {
        assert.throws(() => compileTemplate(t));
        return;
      }
      const c = compileTemplate(t);
      const parts = c.levels.map((l) => (l.k === 'device' ? device : l.k === 'metric' ? metric : l.k === 'any' ? 'any' : l.text));
      if (c.rest) parts.push('extra');
      const m = matchTemplate(c, parts);
      assert.ok(m, `template ${t} matches ${parts.join('/')}`);
      if (c.hasDevice) assert.equal(m.device, device);
      if (c.hasMetric) assert.equal(m.metric, metric);
      assert.ok(topicMatches(c.filter, parts.join('/')) || parts[0]!.startsWith('$'), 'the subscription filter matches too');
    }),
    { numRuns: runs(5000) },
  );
});
