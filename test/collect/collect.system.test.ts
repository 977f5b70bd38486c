/**
 * `edgewise collect` end to end with real parts: Mosquitto (MQTT 5, shared subscriptions,
 * persistence) and PostgreSQL started by the test, 3 gateways (outbox + forwarder, in process),
 * 2 collector processes sharing the load. One collector is SIGKILLed mid-stream and the gateways'
 * uplink is cut and restored (an outage): every message the gateways' outboxes committed lands
 * exactly once. (Not a broker restart: Mosquitto 2.0.11 does not restore shared subscriptions from
 * its persistence file, see docs/collect.md.) Needs mosquitto and postgresql: `npm run test:system`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import pg from 'pg';
import { silentLogger } from '../../src/core/log.js';
import { Outbox } from '../../src/outbox/index.js';
import { UpstreamForwarder } from '../../src/upstream/index.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { setImmediate as yieldToIo } from 'node:timers/promises';
import { aggregate, alert, outboxConfig, raw, tempDir, upstreamConfig, waitFor } from '../upstream/helpers.js';
import { startCollector, Uplink, type CollectorChild } from './helpers.js';
import { freePort, TestPostgres } from './postgres.js';

interface Gw {
  id: string;
  outbox: Outbox;
  fwd: UpstreamForwarder;
  /** Message ids the outbox committed (what the gateway will send). */
  sent: Set<string>;
  produced: number;
  close(): Promise<void>;
}

function gateway(id: string, url: string, over: Record<string, unknown> = {}): Gw {
  const tmp = tempDir(`edgewise-gw-${id}-`);
  const outbox = Outbox.open({ config: outboxConfig(), dataDir: tmp.dir, gatewayId: id, log: silentLogger() });
  const fwd = new UpstreamForwarder({ config: upstreamConfig(url, { protocol_version: 5, ...over }), outbox, gatewayId: id, log: silentLogger() });
  const gw: Gw = {
    id,
    outbox,
    fwd,
    sent: new Set(),
    produced: 0,
    async close() {
      await fwd.stop();
      outbox.close();
      tmp.cleanup();
    },
  };
  outbox.onCommit((rows) => {
    for (const r of rows) gw.sent.add((JSON.parse(r.payload.toString()) as { id: string }).id);
  });
  return gw;
}

/** n messages per gateway: aggregates on 4 streams, an alert every 25th, a raw reading every 10th. */
async function produce(gws: Gw[], n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    for (const g of gws) {
      const k = g.produced++;
      g.outbox.put(k % 25 === 0 ? alert(`d${k % 3}/temp`, k) : k % 10 === 0 ? raw(`d${k % 2}/vib`, k) : aggregate(`d${k % 4}/temp`, k));
    }
    if (i % 50 === 0) await yieldToIo();
  }
  for (const g of gws) g.outbox.flush();
}

/**
 * Two collectors in a group, 2,200 messages per gateway: collector 1 SIGKILLed while messages flow
 * (what it had not committed stays in its session), then the gateways' uplink cut and restored
 * (the broker and the collectors stay up; the gateways buffer in their outboxes), collector 1 back.
 */
async function crashAndOutage(gws: Gw[], uplink: Uplink, collectors: CollectorChild[], args: (n: number) => string[]): Promise<void> {
  collectors.push(await startCollector(args(1)), await startCollector(args(2)));
  for (const g of gws) await g.fwd.start();
  await waitFor(() => gws.every((g) => g.fwd.state() === 'online'), 'gateways online');
  await produce(gws, 600);
  await waitFor(() => gws.every((g) => g.fwd.stats().acked > 300), 'traffic flowing');
  collectors[0]!.child.kill('SIGKILL');
  await collectors[0]!.exited;
  await produce(gws, 600); // the shared subscription keeps giving collector 1 its turn: queued in its session
  await uplink.stop();
  await waitFor(() => gws.every((g) => g.fwd.state() !== 'online'), 'gateways offline');
  await produce(gws, 600);
  await uplink.start();
  collectors[0] = await startCollector(args(1)); // same client id: its session comes back
  await produce(gws, 400);
}

async function tearDown(collectors: CollectorChild[], gws: Gw[], uplink: Uplink, mosq: Mosquitto, cleanup: () => void): Promise<void> {
  for (const c of collectors) if (c.child.exitCode === null) c.child.kill('SIGKILL');
  for (const g of gws) await g.close();
  await uplink.stop();
  await mosq.stop();
  cleanup();
}

describe('edgewise collect: Mosquitto + PostgreSQL, 3 gateways, 2 collectors', () => {
  const pgTmp = new TestPostgres();
  let db: pg.Client;
  before(async () => {
    await pgTmp.start();
    db = new pg.Client(pgTmp.url);
    await db.connect();
  });
  after(async () => {
    await db?.end();
    await pgTmp.stop();
  });

  const count = async (sql: string): Promise<number> => Number((await db.query(sql)).rows[0].n);
  const landed = (schema = 'edgewise') => count(`SELECT (SELECT count(*) FROM ${schema}.aggregates) + (SELECT count(*) FROM ${schema}.alerts) + (SELECT count(*) FROM ${schema}.readings) AS n`);

  it('a SIGKILLed collector and a broker outage lose nothing and duplicate nothing; gaps and bad payloads are reported', { timeout: 300_000 }, async () => {
    const tmp = tempDir('edgewise-collect-mosq-');
    const mosq = new Mosquitto(tmp.dir, await freePort(), ['max_inflight_messages 100']);
    await mosq.start();
    const collectorArgs = (n: number) => ['--broker', mosq.url, '--db', pgTmp.url, '--group', 'lake', '--client-id', `collector-${n}`, '--batch', '200', '--stats-every', '2'];
    const collectors: CollectorChild[] = [];
    const uplink = new Uplink(mosq.port);
    await uplink.start();
    const gws = ['gw-a', 'gw-b', 'gw-c'].map((id) => gateway(id, uplink.url));
    try {
      await crashAndOutage(gws, uplink, collectors, collectorArgs);

      const expected = gws.reduce((s, g) => s + g.sent.size, 0);
      assert.equal(expected, 3 * 2200, 'every message produced was committed to an outbox');
      let n = 0;
      await waitFor(async () => (n = await landed()) >= expected, 'every row to land', 60_000, 100).catch(() => {}); // the assertion says what is missing
      assert.equal(n, expected, `rows landed (${n}) = messages the outboxes committed (${expected})\n${JSON.stringify(gws.map((g) => g.fwd.stats()))}\n${collectors.map((c) => c.output().slice(-3000)).join('\n')}\n${mosq.log.slice(-3000)}`);

      for (const g of gws) {
        const ids = new Set<string>();
        for (const t of ['aggregates', 'alerts', 'readings']) for (const r of (await db.query(`SELECT id FROM edgewise.${t} WHERE gateway = $1`, [g.id])).rows) ids.add(r.id as string);
        assert.equal(ids.size, g.sent.size, `${g.id}: as many distinct ids as sent`);
        for (const id of g.sent) assert.ok(ids.has(id), `${g.id}: ${id} landed`);
      }
      assert.equal(await count('SELECT count(*) AS n FROM edgewise.gaps'), 0, 'no seq gaps: no gateway dropped anything');
      assert.equal(await count("SELECT count(*) AS n FROM edgewise.gateway_status WHERE state = 'online'"), 3, 'retained status of every gateway');

      // A gateway that dropped seq 3-4, and a payload that is not the contract.
      const pub = await mqtt.connectAsync(mosq.url, { protocolVersion: 5 });
      const msg = (seq: number) =>
        JSON.stringify({ schema: 1, gateway: 'gw-gap', id: `e1-${seq}`, epoch: 'e1', seq, kind: 'aggregate', stream: 'x/y', pipeline: 'p', output: 'o', emitted: Date.now(), data: { window: 'tumbling', start: 0, end: 1000, count: 1, values: { mean: 1 } } });
      for (const seq of [1, 2, 5]) await pub.publishAsync('edgewise/v1/gw-gap/aggregate/x/y', msg(seq), { qos: 1 });
      await pub.publishAsync('edgewise/v1/gw-gap/alert/x/y', '{"schema":1,"kind":"alert"}', { qos: 1 });
      await pub.endAsync();
      let dropped: { gateway: string; missing: string; gaps: string }[] = [];
      await waitFor(async () => {
        // All three rows first: the two collectors commit on their own, and seq 2 alone would read as a gap of 1.
        if ((await count("SELECT count(*) AS n FROM edgewise.aggregates WHERE gateway = 'gw-gap'")) < 3) return false;
        dropped = (await db.query('SELECT * FROM edgewise.dropped')).rows;
        return (await count('SELECT count(*) AS n FROM edgewise.rejects')) > 0;
      }, 'the three gw-gap rows and the reject recorded', 20_000, 100).catch(() => {}); // the assertions say what is missing
      assert.deepEqual(dropped, [{ gateway: 'gw-gap', missing: '2', gaps: '1' }]);
      const rej = (await db.query('SELECT topic, error FROM edgewise.rejects')).rows;
      assert.equal(rej.length, 1);
      assert.match(rej[0].error, /alert payload: gateway/);

      // SIGTERM: both collectors commit, acknowledge and exit 0.
      for (const c of collectors) c.child.kill('SIGTERM');
      const codes = await Promise.all(collectors.map((c) => c.exited));
      assert.deepEqual(codes, [0, 0], collectors.map((c) => c.output().slice(-2000)).join('\n'));
    } finally {
      await tearDown(collectors, gws, uplink, mosq, tmp.cleanup);
    }
  });

  it('batched and compressed uplinks (gzip, brotli, plain): every record lands once through a SIGKILLed collector and an outage', { timeout: 300_000 }, async () => {
    const tmp = tempDir('edgewise-collect-batch-');
    const mosq = new Mosquitto(tmp.dir, await freePort());
    await mosq.start();
    const args = (n: number) => ['--broker', mosq.url, '--db', pgTmp.url, '--schema', 'compact', '--group', 'compact', '--client-id', `compact-${n}`, '--batch', '300'];
    const collectors: CollectorChild[] = [];
    const uplink = new Uplink(mosq.port);
    await uplink.start();
    const batch = (compression: string) => ({ batch: { max_records: 40, max_bytes: '16KB', max_delay: '100ms', compression } });
    const gws = [gateway('gw-gzip', uplink.url, batch('gzip')), gateway('gw-brotli', uplink.url, batch('brotli')), gateway('gw-plain', uplink.url, batch('none'))];
    try {
      await crashAndOutage(gws, uplink, collectors, args);

      const expected = gws.reduce((s, g) => s + g.sent.size, 0);
      assert.equal(expected, 3 * 2200);
      const t0 = Date.now();
      let n = 0;
      while ((n = await landed('compact')) < expected && Date.now() - t0 < 60_000) await sleep(100);
      assert.equal(n, expected, `rows landed (${n}) = records the outboxes committed (${expected})\n${JSON.stringify(gws.map((g) => g.fwd.stats()))}\n${collectors.map((c) => c.output().slice(-3000)).join('\n')}`);
      for (const g of gws) {
        const st = g.fwd.stats();
        assert.ok(st.batches > 0 && st.batches * 5 < st.sent, `${g.id}: records travelled in batches (${st.batches} for ${st.sent})`);
        const ids = new Set<string>();
        for (const t of ['aggregates', 'alerts', 'readings']) {
          for (const r of (await db.query(`SELECT id, topic FROM compact.${t} WHERE gateway = $1`, [g.id])).rows) {
            ids.add(r.id as string);
            assert.doesNotMatch(r.topic as string, /\/batch/, 'a record lands under the topic it would have had alone');
          }
        }
        assert.deepEqual(ids, g.sent, `${g.id}: every record once`);
      }
      assert.equal(await count('SELECT count(*) AS n FROM compact.gaps'), 0, 'seq gap-free per record topic');
      assert.equal(await count('SELECT count(*) AS n FROM compact.rejects'), 0);
    } finally {
      await tearDown(collectors, gws, uplink, mosq, tmp.cleanup);
    }
  });
});
