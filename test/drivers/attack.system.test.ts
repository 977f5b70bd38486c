import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { join } from 'node:path';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { hashPassword } from '../../drivers/mqtt/index.js';
import { parseGatewayText } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/log.js';
import { Gateway } from '../../src/runtime/gateway.js';
import { tempDir } from '../upstream/helpers.js';
import { counter } from './helpers.js';
import { freePort, waitFor } from '../runtime/helpers.js';

/**
 * Attack suite (issue 17): a gateway (the runtime, in this process) with an embedded broker, users
 * and ACLs, attacked over loopback with a real MQTT client and raw sockets. Each case asserts
 * what is refused, that it is counted, and that a legitimate device keeps flowing meanwhile.
 * Attackers come from other loopback addresses (127.0.0.x) so per-address limits can be told
 * apart from the device's own (127.0.0.1).
 */

const PW = 'device-secret';
let hash: string | undefined;

interface Rig {
  gw: Gateway;
  url: string;
  port: number;
  /** One counter of the mqtt input; a name the input does not report fails the test (so a renamed counter is not read as 0). */
  counter(name: string): number;
  dropped(): Record<string, number>;
  /** Readings the pipeline took from the legitimate device `dev-ok`. */
  devReadings(): number;
}

async function startGateway(t: { after: (fn: () => Promise<void>) => void }, broker: Record<string, unknown> = {}): Promise<Rig> {
  hash ??= await hashPassword(PW);
  const { dir, cleanup } = tempDir('edgewise-attack-');
  const port = await freePort();
  const user = (username: string, publish: string[], subscribe: string[]) => ({ username, password_hash: hash, publish, subscribe });
  const yaml = JSON.stringify({
    gateway: { id: 'gw-attack', data_dir: 'data' },
    log: { level: 'error' },
    inputs: [
      {
        name: 'local',
        type: 'mqtt',
        ignore_topics: ['cmd/#'],
        broker: {
          port,
          allow_anonymous: false,
          users: [user('dev-ok', ['sensors/%u/#'], ['cmd/%u/#']), user('dev3', ['sensors/%c/#'], ['cmd/%c/#']), user('herd', ['sensors/%c/#'], [])],
          ...broker,
        },
      },
    ],
    pipelines: ['p.yaml'],
  });
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'p.yaml'), 'name: watch\ninput: { streams: ["dev-ok/*"] }\nsteps:\n  - window: { type: tumbling, size: 1m, aggregates: [count] }\n');
  const loaded = parseGatewayText(yaml, join(dir, 'edgewise.yaml'), {}, dir);
  const gw = new Gateway({ config: loaded.config, pipelines: loaded.pipelines.map((p) => p.spec), baseDir: dir, log: silentLogger() });
  await gw.start();
  t.after(async () => {
    await gw.stop();
    cleanup();
  });
  const input = () => gw.stats().inputs[0]!;
  return {
    gw,
    port,
    url: `mqtt://127.0.0.1:${port}`,
    counter: (name) => counter(input().counters, name),
    dropped: () => input().dropped,
    devReadings: () => gw.stats().pipelines[0]!.accepted,
  };
}

const clients: MqttClient[] = [];
async function closeAll(): Promise<void> {
  await Promise.all(clients.splice(0).map((c) => new Promise<void>((r) => c.end(true, {}, () => r()))));
}

/** Connect (from `localAddress` if given); rejects with the CONNACK error (its `code`) or a close. */
function connect(url: string, opts: IClientOptions & { localAddress?: string } = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const { localAddress, ...rest } = opts;
    const o: IClientOptions = { reconnectPeriod: 0, connectTimeout: 60_000, protocolVersion: 4, ...rest };
    const u = new URL(url);
    const c = new mqtt.MqttClient(() => {
      const s = net.connect({ host: u.hostname, port: Number(u.port), localAddress });
      s.setNoDelay(true);
      return s;
    }, o);
    clients.push(c);
    c.once('connect', () => resolve(c));
    c.once('error', (e) => {
      c.end(true);
      reject(e);
    });
    c.once('close', () => reject(new Error('closed before CONNACK')));
  });
}

const code = (e: unknown) => (e as { code?: number }).code;

/** The legitimate device: publishes `n` QoS 1 readings, each acknowledged before the next. */
async function deviceSends(dev: MqttClient, n: number, from = 0): Promise<void> {
  for (let i = from; i < from + n; i++) await dev.publishAsync('sensors/dev-ok/temp', String(20 + (i % 5)), { qos: 1 }); // stamped by the gateway clock
}

test('credentials: wrong password, unknown user and anonymous are refused and counted', { timeout: 60_000 }, async (t) => {
  const g = await startGateway(t);
  t.after(closeAll);
  await assert.rejects(connect(g.url, { username: 'dev-ok', password: 'wrong' }), (e) => code(e) === 4);
  await assert.rejects(connect(g.url, { username: 'nobody', password: PW }), (e) => code(e) === 4);
  await assert.rejects(connect(g.url, { username: 'dev-ok' }), (e) => code(e) === 4);
  await assert.rejects(connect(g.url), (e) => code(e) === 5);
  const dev = await connect(g.url, { username: 'dev-ok', password: PW, clientId: 'dev-ok' });
  await deviceSends(dev, 10);
  await waitFor(() => g.devReadings() === 10, 'the device\'s readings');
  assert.equal(g.counter('broker_auth_refused'), 4);
});

test('ACL with %u and %c: wildcard client ids are refused; another device\'s topics, $SYS and wills outside the ACL are not ingested', { timeout: 60_000 }, async (t) => {
  const g = await startGateway(t);
  t.after(closeAll);
  const dev = await connect(g.url, { username: 'dev-ok', password: PW, clientId: 'dev-ok' });
  for (const id of ['#', '+', '+/#', 'dev-ok/#', '$SYS', 'a\u0000b']) {
    await assert.rejects(connect(g.url, { username: 'dev3', password: PW, clientId: id, localAddress: '127.0.0.5' }), (e) => code(e) === 2, `client id ${JSON.stringify(id)}`);
  }
  assert.equal(g.counter('broker_id_refused'), 6);

  // dev3 with a plain id: its own subtree only
  const dev3 = await connect(g.url, { username: 'dev3', password: PW, clientId: 'dev3', will: { topic: 'sensors/dev-ok/temp', payload: Buffer.from('999'), qos: 0, retain: false } });
  await assert.rejects(dev3.subscribeAsync('cmd/#'), /Subscribe error/);
  await assert.rejects(dev3.subscribeAsync('$SYS/#'), /Subscribe error/);
  await assert.rejects(dev3.subscribeAsync('#'), /Subscribe error/);
  assert.deepEqual((await dev3.subscribeAsync('cmd/dev3/#')).map((s) => s.qos), [0]);
  const closed = new Promise<void>((r) => dev3.once('close', () => r()));
  dev3.publish('sensors/dev-ok/temp', '999'); // hijack attempt: disconnects; its will (also outside the ACL) must not be ingested
  await closed;
  // $SYS publish from a device with a wide ACL is refused too
  const sys = await connect(g.url, { username: 'dev-ok', password: PW, clientId: 'dev-ok-2' });
  const sysClosed = new Promise<void>((r) => sys.once('close', () => r()));
  sys.publish('$SYS/broker/uptime', '1');
  await sysClosed;

  await deviceSends(dev, 20);
  await waitFor(() => g.devReadings() === 20, 'the device\'s 20 readings');
  assert.equal(g.devReadings(), 20, 'no hijacked or will reading');
  assert.ok(g.counter('broker_publish_denied') >= 2, 'the hijack and the will are denied');
});

test('oversized packets: a PUBLISH and an unauthenticated CONNECT announcing 100–200 MB are cut off on the fixed header', { timeout: 60_000 }, async (t) => {
  const g = await startGateway(t, { max_packet_size: '64KB' });
  t.after(closeAll);
  const dev = await connect(g.url, { username: 'dev-ok', password: PW, clientId: 'dev-ok' });
  const varint = (n: number) => {
    const out: number[] = [];
    do {
      let b = n % 128;
      n = Math.floor(n / 128);
      if (n > 0) b |= 0x80;
      out.push(b);
    } while (n > 0);
    return out;
  };
  /** Send a header announcing `len` bytes, then stream the body; resolves with the bytes the socket took before the server closed it. */
  const flood = (first: Buffer, type: number, len: number) =>
    new Promise<number>((resolve) => {
      const s = net.connect({ port: g.port, host: '127.0.0.1', localAddress: '127.0.0.6' }, async () => {
        s.write(first);
        s.write(Buffer.from([type, ...varint(len)]));
        const chunk = Buffer.alloc(1 << 20, 0x41);
        for (let i = 0; i < 200 && !s.destroyed; i++) if (!s.write(chunk)) await new Promise((r) => s.once('drain', r).once('close', r));
      });
      s.on('error', () => {});
      s.once('close', () => resolve(s.bytesWritten));
    });
  const connectPacket = Buffer.from([0x10, 0x12, 0x00, 0x04, ...Buffer.from('MQTT'), 0x04, 0x02, 0x00, 0x3c, 0x00, 0x06, ...Buffer.from('abcdef')]);
  // a client that never authenticates announces a 200 MB CONNECT
  const w1 = await flood(Buffer.alloc(0), 0x10, 200 * 1024 * 1024);
  // an anonymous-refused peer sends a CONNECT then a 100 MB PUBLISH: refused on CONNECT already or on the header
  const w2 = await flood(connectPacket, 0x30, 100 * 1024 * 1024);
  assert.ok(w1 < 200 * 1024 * 1024 && w2 < 100 * 1024 * 1024, `closed before the bodies were sent (${w1}, ${w2} bytes written)`);
  assert.ok(g.counter('broker_oversized_disconnects') >= 1);
  assert.ok((g.dropped().oversized ?? 0) >= 1);
  await deviceSends(dev, 10);
  await waitFor(() => g.devReadings() === 10, 'the device keeps flowing');
});

test('connection flood: 1,100 clients at once with max_clients 1000 → exactly 1000 in, 100 get CONNACK 3 at once', { timeout: 120_000 }, async (t) => {
  const g = await startGateway(t, { max_clients: 1000 });
  t.after(closeAll);
  const results = await Promise.allSettled(
    Array.from({ length: 1100 }, (_, i) => connect(g.url, { username: 'herd', password: PW, clientId: `herd-${i}`, localAddress: `127.0.1.${1 + (i % 40)}` })),
  );
  const ok = results.filter((r) => r.status === 'fulfilled').length;
  const codes = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => code(r.reason));
  assert.equal(ok, 1000);
  assert.deepEqual([...new Set(codes)], [3]);
  assert.equal(codes.length, 100);
  assert.equal(g.counter('broker_clients'), 1000);
  assert.equal(g.counter('broker_clients_refused'), 100);
  assert.ok(g.counter('broker_password_checks') <= 2, `one scrypt for the herd: ${g.counter('broker_password_checks')}`);
});

test('login storm: 400 wrong passwords, 40 at a time from 8 addresses; password checks stay bounded and the device keeps flowing', { timeout: 120_000 }, async (t) => {
  const g = await startGateway(t);
  t.after(closeAll);
  const dev = await connect(g.url, { username: 'dev-ok', password: PW, clientId: 'dev-ok' });
  // the device's rate alone, for the diagnostic line (not asserted: tests assert counts, not timings)
  const b0 = Date.now();
  await deviceSends(dev, 1000);
  const alone = 1000 / ((Date.now() - b0) / 1000);
  let stormDone = false;
  const s0 = Date.now();
  const storm = (async () => {
    const refused: Array<number | undefined> = [];
    for (let wave = 0; wave < 10; wave++) {
      const r = await Promise.allSettled(
        Array.from({ length: 40 }, (_, i) => connect(g.url, { username: 'dev-ok', password: `guess-${wave}-${i}`, clientId: `x-${wave}-${i}`, localAddress: `127.0.2.${1 + (i % 8)}` })),
      );
      for (const x of r) refused.push(x.status === 'rejected' ? code(x.reason) : 0);
    }
    stormDone = true;
    return refused;
  })();
  let sent = 0;
  while (!stormDone) {
    await deviceSends(dev, 10, 1000 + sent);
    sent += 10;
  }
  const during = sent / ((Date.now() - s0) / 1000);
  sent += 1000;
  const refused = await storm;
  await waitFor(() => g.devReadings() === sent, () => `all ${sent} readings of the device (pipeline accepted ${g.devReadings()})`);
  assert.equal(refused.length, 400);
  assert.ok(refused.every((c) => c === 3 || c === 4), 'every guess refused (4: checked, 3: throttled)');
  // 8 addresses × 5 failures before each backs off (a back-off of 1 s may end once or twice during the storm)
  assert.ok(g.counter('broker_password_checks') <= 8 * 5 * 4, `password checks bounded: ${g.counter('broker_password_checks')}`);
  assert.ok(g.counter('broker_auth_throttled') >= 200, `most refused without a check: ${g.counter('broker_auth_throttled')}`);
  assert.ok(sent >= 10, 'the device published during the storm');
  t.diagnostic(`storm: ${sent} device readings delivered, ${g.counter('broker_password_checks')} password checks, ${g.counter('broker_auth_throttled')} throttled, ${g.counter('broker_auth_refused')} refused after a check; device QoS 1 round trips ${alone.toFixed(0)}/s alone, ${during.toFixed(0)}/s during the storm`);
});

test('half-open sockets: thousands of connections without CONNECT are capped per address and in total; the device still connects', { timeout: 120_000 }, async (t) => {
  // connect_timeout well beyond the time to open the 3,000 sockets (4.7 s on an idle machine): a held
  // socket that timed out before a newer one evicted it would never count as evicted.
  const g = await startGateway(t, { connect_timeout: '20s' });
  t.after(closeAll);
  const socks: net.Socket[] = [];
  t.after(() => {
    for (const s of socks) s.destroy();
    return Promise.resolve();
  });
  const open = (localAddress: string) =>
    new Promise<void>((resolve) => {
      const s = net.connect({ port: g.port, host: '127.0.0.1', localAddress }, () => resolve());
      s.on('error', () => resolve());
      socks.push(s);
    });
  // 1,000 from one address: 64 held, the rest refused at once
  for (let i = 0; i < 1000; i += 100) await Promise.all(Array.from({ length: 100 }, () => open('127.0.3.1')));
  await waitFor(() => g.counter('broker_preconnect_refused') === 1000 - 64, 'per-address refusals');
  // 2,000 more from 40 addresses (50 each): the total cap of 512 closes the oldest
  for (let a = 0; a < 40; a++) await Promise.all(Array.from({ length: 50 }, () => open(`127.0.4.${a + 1}`)));
  await waitFor(() => g.counter('broker_preconnect_pending') <= 512 && g.counter('broker_preconnect_evicted') >= 2064 - 512, 'total cap');
  // the device connects and publishes while the idle sockets are still open
  const dev = await connect(g.url, { username: 'dev-ok', password: PW, clientId: 'dev-ok' });
  await deviceSends(dev, 20);
  await waitFor(() => g.devReadings() === 20, 'the device\'s readings');
  // and connect_timeout closes whatever is left
  await waitFor(() => g.counter('broker_preconnect_pending') === 0, 'idle sockets closed after connect_timeout', 60_000);
});

test('hostile topics: distinct 60 KB topics inside the ACL keep the topic cache and retained store within their byte budgets', { timeout: 120_000 }, async (t) => {
  const g = await startGateway(t, { max_retained_bytes: '256KB' });
  t.after(closeAll);
  const dev = await connect(g.url, { username: 'dev-ok', password: PW, clientId: 'dev-ok' });
  const rss0 = process.memoryUsage().rss;
  for (let i = 0; i < 2000; i++) {
    await dev.publishAsync(`sensors/dev-ok/${i}-${'x'.repeat(60_000)}`, '1', { qos: 1, retain: i % 2 === 0 });
  }
  assert.ok(g.counter('topic_cache_bytes') <= 1024 * 1024, `topic cache ${g.counter('topic_cache_bytes')} bytes`);
  assert.ok(g.counter('broker_retained_bytes') <= 256 * 1024, `retained ${g.counter('broker_retained_bytes')} bytes`);
  assert.ok(g.counter('broker_retain_refused') >= 990, `retained publishes beyond the budget: ${g.counter('broker_retain_refused')}`);
  // Without an outbox the embedded broker writes the PUBACK before the reading is handed on: wait for the last ones.
  await waitFor(() => (g.dropped().bad_name ?? 0) + g.devReadings() >= 2000, 'every message counted');
  assert.equal((g.dropped().bad_name ?? 0) + g.devReadings(), 2000, 'every message counted (the long metric level is not a valid name)');
  t.diagnostic(`rss ${(rss0 / 1e6).toFixed(0)} → ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB over 2,000 distinct 60 KB topics`);
});
