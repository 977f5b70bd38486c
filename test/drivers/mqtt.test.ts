import { test, after } from 'node:test';
import { mqttPlugin } from '../../drivers/mqtt/plugin.js';
import assert from 'node:assert/strict';
import net from 'node:net';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { startEmbeddedBroker, hashPassword, verifyPassword, type MqttConfig } from '../../drivers/mqtt/index.js';
import { mqttConfigSchema } from '../helpers/schemas.js';
import type { Driver } from '../../src/core/driver.js';
import { makeCtx, makeDeps, waitFor, byStream, type TestCtx } from './helpers.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function connect(url: string, opts: IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 10_000, ...opts });
    c.once('connect', () => {
      (c.stream as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
      resolve(c);
    });
    c.once('error', (e) => {
      c.end(true);
      reject(e);
    });
    cleanups.push(() => new Promise<void>((r) => c.end(true, {}, () => r())));
  });
}

async function startDriver(raw: Record<string, unknown>): Promise<{ driver: Driver; ctx: TestCtx; url: string }> {
  const cfg = mqttConfigSchema.parse(raw) as MqttConfig;
  const driver = mqttPlugin.create('local', cfg, makeDeps());
  const ctx = makeCtx(() => 1_700_000_000_000);
  await driver.start(ctx);
  cleanups.push(() => driver.stop());
  const broker = (driver as unknown as { embeddedBroker?: { url: string } }).embeddedBroker;
  return { driver, ctx, url: broker?.url ?? '' };
}

test('embedded broker: every payload form becomes readings; garbage is counted', async () => {
  const { driver, ctx, url } = await startDriver({ broker: { port: 0 }, max_payload_bytes: 1024 });
  const c = await connect(url);
  const pub = (topic: string, payload: string | Buffer) => new Promise<void>((r) => c.publish(topic, payload, { qos: 1 }, () => r()));
  await pub('sensors/pump-1/temp', '21.5');
  await pub('sensors/pump-1/vib', JSON.stringify({ value: 0.42, ts: 1_600_000_000_123 }));
  await pub('sensors/pump-1/rpm', JSON.stringify({ value: '1450', ts: '2024-03-01T12:00:00', unit: 'rpm' }));
  await pub('sensors/env-1/bme280', JSON.stringify({ temp: 20.5, hum: 41, ok: true, id: 'abc', ts: '2024-03-01T12:00:00+01:00' }));
  await pub('sensors/pump-1/temp', 'banana');
  await pub('sensors/pump-1/temp', '{"value": oops');
  await pub('sensors/pump-1/temp', '{"value": null}');
  await pub('sensors/pump-1/temp', '[1,2,3]');
  await pub('other/thing', '1');
  await pub('sensors/pump-1/temp', 'x'.repeat(2000));
  await pub('sensors/pump-1/temp', Buffer.from([0xff, 0xfe, 0x00, 0x01]));
  await pub('sensors/pump-1/temp', JSON.stringify({ value: 1, ts: 'yesterday' }));
  await waitFor(() => ctx.readings.length >= 6 && ctx.drops.total() >= 8, 'readings and drops');

  assert.deepEqual(byStream(ctx.readings, 'pump-1/temp'), [{ stream: 'pump-1/temp', ts: 1_700_000_000_000, value: 21.5 }]);
  assert.deepEqual(byStream(ctx.readings, 'pump-1/vib'), [{ stream: 'pump-1/vib', ts: 1_600_000_000_123, value: 0.42 }]);
  const rpm = byStream(ctx.readings, 'pump-1/rpm')[0]!;
  assert.equal(rpm.value, 1450);
  assert.equal(rpm.ts, Date.UTC(2024, 2, 1, 12), 'ISO without zone is UTC');
  assert.deepEqual(rpm.fields, { unit: 'rpm' });
  const t11 = Date.UTC(2024, 2, 1, 11);
  assert.deepEqual(byStream(ctx.readings, 'env-1/bme280_temp'), [{ stream: 'env-1/bme280_temp', ts: t11, value: 20.5 }]);
  assert.equal(byStream(ctx.readings, 'env-1/bme280_hum')[0]!.value, 41);
  assert.equal(byStream(ctx.readings, 'env-1/bme280_ok')[0]!.value, 1);
  assert.equal(byStream(ctx.readings, 'env-1/bme280_id').length, 0);

  // On a failure, every drop kept (with its client and topic): once under load 'oversized' was 3,
  // not 1, in a full `npm test`; the samples say where the other two came from.
  const drops = () => JSON.stringify(ctx.drops.allSamples());
  assert.equal(ctx.drops.count('not_a_number'), 3, drops()); // banana, null, binary
  assert.equal(ctx.drops.count('bad_payload'), 2, drops()); // broken JSON, array
  assert.equal(ctx.drops.count('unknown_topic'), 1, drops());
  assert.equal(ctx.drops.count('oversized'), 1, drops());
  assert.equal(ctx.drops.count('bad_timestamp'), 1, drops());
  assert.match(ctx.drops.samplesFor('unknown_topic')[0]!.detail!, /other\/thing/);
  assert.equal(ctx.drops.samplesFor('not_a_number')[0]!.sample, 'banana');
  const counters = driver.counters();
  assert.equal(counters.messages, 12);
  assert.equal(counters.readings, 6);
  assert.equal(driver.health().state, 'up');
});

test('embedded broker: the firmware-simulator form sensors/<device>/<metric> {"value","ts"} works with defaults', async () => {
  const { ctx, url } = await startDriver({ broker: { port: 0 } });
  const c = await connect(url);
  for (let i = 0; i < 50; i++) c.publish(`sensors/dev-${i % 5}/flow`, JSON.stringify({ value: i, ts: 1_700_000_000_000 + i }));
  await waitFor(() => ctx.readings.length === 50, '50 readings');
  assert.equal(ctx.readings[49]!.stream, 'dev-4/flow');
  assert.equal(ctx.readings[49]!.ts, 1_700_000_000_049);
  assert.equal(ctx.drops.total(), 0);
});

test('templates without {metric}: several fields give one reading per field', async () => {
  const { ctx, url } = await startDriver({ broker: { port: 0 }, topics: ['site/{device}/state', 'fixed/+/#'], device: 'gw', ignore_topics: ['cmd/#'] });
  const c = await connect(url);
  c.publish('site/env-2/state', JSON.stringify({ temp: 1, hum: 2 }));
  c.publish('fixed/a/b/c', '7');
  c.publish('cmd/reboot', 'now');
  await waitFor(() => ctx.readings.length === 3, '3 readings');
  assert.deepEqual(ctx.readings.map((r) => r.stream).sort(), ['env-2/hum', 'env-2/temp', 'gw/value']);
  assert.equal(ctx.drops.total(), 0);
});

test('embedded broker: users with scrypt hashes; wrong passwords and anonymous clients refused', async () => {
  const hash = await hashPassword('s3cret', { N: 1024 });
  assert.match(hash, /^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
  assert.equal(await verifyPassword('s3cret', hash), true);
  assert.equal(await verifyPassword('nope', hash), false);
  const { ctx, url, driver } = await startDriver({
    broker: {
      port: 0,
      users: [{ username: 'esp32-a', password_hash: hash, publish: ['sensors/%u/#'], subscribe: ['cmd/%u/#'] }],
    },
  });
  await assert.rejects(connect(url, { username: 'esp32-a', password: 'wrong' }), /Bad username or password|Not authorized/i);
  await assert.rejects(connect(url, { username: 'nobody', password: 'x' }), /Bad username or password|Not authorized/i);
  await assert.rejects(connect(url), /Not authorized|Bad username/i);
  const c = await connect(url, { username: 'esp32-a', password: 's3cret' });

  // subscribe ACL: inside granted, outside refused (128)
  const ok = await c.subscribeAsync('cmd/esp32-a/led');
  assert.deepEqual(ok.map((g) => g.qos), [0]);
  // mqtt.js turns a SUBACK 128 into an error
  await assert.rejects(c.subscribeAsync('sensors/#'), /Subscribe error/);

  // publish ACL: own subtree accepted; another device's topic disconnects
  c.publish('sensors/esp32-a/temp', '20');
  await waitFor(() => ctx.readings.length === 1, 'reading from the authorised client');
  const closed = new Promise<void>((r) => c.once('close', () => r()));
  c.publish('sensors/other-dev/temp', '99');
  await closed;
  assert.equal(ctx.readings.length, 1);
  const k = driver.counters();
  assert.equal(k.broker_auth_refused, 3);
  assert.equal(k.broker_publish_denied, 1);
  assert.equal(k.broker_subscribe_denied, 1);
});

test('embedded broker: an oversized packet disconnects the client and is counted', async () => {
  const { ctx, url } = await startDriver({ broker: { port: 0, max_packet_size: '4KB' } });
  const c = await connect(url);
  const closed = new Promise<void>((r) => c.once('close', () => r()));
  c.publish('sensors/d/m', Buffer.alloc(10_000, 0x31));
  await closed;
  await waitFor(() => ctx.drops.count('oversized') === 1, 'oversized drop');
  assert.match(ctx.drops.samplesFor('oversized')[0]!.detail!, /max_packet_size 4096/);
  // the broker keeps serving others
  const c2 = await connect(url);
  c2.publish('sensors/d/m', '1');
  await waitFor(() => ctx.readings.length === 1, 'reading after the oversized client');
});

test('a raw socket sending a header with a huge length is cut off before its body is buffered', async () => {
  const { ctx, url } = await startDriver({ broker: { port: 0, max_packet_size: 1024 } });
  const port = Number(new URL(url).port);
  const sock = net.connect(port, '127.0.0.1');
  const closed = new Promise((r) => sock.once('close', r));
  sock.on('error', () => {});
  sock.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f])); // PUBLISH of ~256 MB
  await closed;
  assert.equal(ctx.drops.count('oversized'), 1);
});

test('client mode: subscribes to an existing broker and maps topics the same way', async () => {
  const upstream = await startEmbeddedBroker({ port: 0 });
  cleanups.push(() => upstream.close());
  const { driver, ctx } = await startDriver({ mode: 'client', client: { url: upstream.url } });
  await waitFor(() => driver.health().state === 'up', 'client subscribed');
  const c = await connect(upstream.url);
  c.publish('sensors/truck-7/speed', JSON.stringify({ value: 88.5, ts: 1_650_000_000_000 }));
  c.publish('elsewhere/x', '1');
  await waitFor(() => ctx.readings.length === 1, 'reading via client mode');
  assert.deepEqual(ctx.readings[0], { stream: 'truck-7/speed', ts: 1_650_000_000_000, value: 88.5 });
  assert.equal(ctx.drops.total(), 0, 'only subscribed topics arrive');
});

test('a port already in use is a clear start error', async () => {
  const b = await startEmbeddedBroker({ port: 0 });
  cleanups.push(() => b.close());
  const cfg = mqttConfigSchema.parse({ broker: { port: b.port } }) as MqttConfig;
  const d = mqttPlugin.create('dup', cfg, makeDeps());
  await assert.rejects(d.start(makeCtx()), /mqtt input "dup".*cannot listen on 127\.0\.0\.1:\d+: the port is in use/);
  assert.equal(d.health().state, 'down');
  await d.stop();
});

test('config: templates and hashes are checked', () => {
  assert.equal(mqttConfigSchema.safeParse({ topics: ['sensors/{dev}/x'] }).success, false);
  assert.equal(mqttConfigSchema.safeParse({ topics: ['a/#/b'] }).success, false);
  const r = mqttConfigSchema.safeParse({ broker: { users: [{ username: 'u', password_hash: 'plain' }] } });
  assert.equal(r.success, false);
  assert.match(JSON.stringify(r.error?.issues), /edgewise hash-password/);
  assert.throws(() => mqttPlugin.create('x', mqttConfigSchema.parse({ topics: ['a/{metric}'] }) as MqttConfig, makeDeps()), /has no \{device\}/);
});

test('client mode: retained messages the broker replays at subscription are skipped and counted (a silent device does not report its last value again at each reconnect); retained: take ingests them', async () => {
  const upstream = await startEmbeddedBroker({ port: 0 });
  cleanups.push(() => upstream.close());
  const dev = await connect(upstream.url);
  await new Promise<void>((r) => dev.publish('sensors/old/temp', '21.5', { retain: true, qos: 1 }, () => r()));
  const { driver, ctx } = await startDriver({ mode: 'client', client: { url: upstream.url } });
  await waitFor(() => driver.health().state === 'up', 'client subscribed');
  dev.publish('sensors/live/temp', '22');
  await waitFor(() => ctx.readings.length === 1, 'the live reading');
  assert.equal(ctx.readings[0]?.stream, 'live/temp');
  await waitFor(() => driver.counters().retained_skipped === 1, 'the retained one skipped and counted');
  const take = await startDriver({ mode: 'client', client: { url: upstream.url, retained: 'take' } });
  await waitFor(() => take.ctx.readings.some((r) => r.stream === 'old/temp'), 'retained: take ingests the replayed value');
});

test('client mode, persistent_session with qos 1: what devices publish while the gateway is stopped arrives when it starts again; a persistent session without client_id is a config error', async () => {
  const upstream = await startEmbeddedBroker({ port: 0 });
  cleanups.push(() => upstream.close());
  const cfg = { mode: 'client', client: { url: upstream.url, client_id: 'gw-7-local', qos: 1, persistent_session: true } };
  const first = await startDriver(cfg);
  await waitFor(() => first.driver.health().state === 'up', 'client subscribed');
  await first.driver.stop();
  const dev = await connect(upstream.url);
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => dev.publish('sensors/pump/temp', String(i), { qos: 1 }, () => r()));
  const second = await startDriver(cfg);
  await waitFor(() => second.ctx.readings.length === 5, () => `the 5 readings published while it was down: ${second.ctx.readings.length}`);
  assert.deepEqual(second.ctx.readings.map((r) => r.value), [0, 1, 2, 3, 4]);
  assert.match(JSON.stringify(mqttConfigSchema.safeParse({ mode: 'client', client: { url: upstream.url, persistent_session: true } }).error?.issues), /needs a fixed client_id/);
});
