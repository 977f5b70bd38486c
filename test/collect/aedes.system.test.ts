/**
 * `edgewise collect --protocol 4` against aedes (MQTT 3.1.1, no shared subscriptions): a gateway,
 * one collector process SIGKILLed mid-stream and restarted, an uplink outage, PostgreSQL stopped
 * and restarted; every message the outbox committed lands once. Needs postgresql: `npm run test:system`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { silentLogger } from '../../src/core/log.js';
import { Outbox } from '../../src/outbox/index.js';
import { UpstreamForwarder } from '../../src/upstream/index.js';
import { setImmediate as yieldToIo } from 'node:timers/promises';
import { aggregate, alert, outboxConfig, TestBroker, tempDir, upstreamConfig, waitFor } from '../upstream/helpers.js';
import { startCollector, Uplink, type CollectorChild } from './helpers.js';
import { TestPostgres } from './postgres.js';

describe('edgewise collect against aedes (MQTT 3.1.1)', () => {
  const db = new TestPostgres();
  let q: pg.Client;
  before(async () => {
    await db.start();
    q = new pg.Client(db.url);
    await q.connect();
  });
  after(async () => {
    await q?.end();
    await db.stop();
  });

  it('a SIGKILLed collector, an uplink outage and a database outage lose nothing and duplicate nothing', { timeout: 120_000 }, async () => {
    const broker = new TestBroker();
    await broker.start();
    const uplink = new Uplink(broker.port);
    await uplink.start();
    const tmp = tempDir('edgewise-collect-aedes-');
    const outbox = Outbox.open({ config: outboxConfig(), dataDir: tmp.dir, gatewayId: 'gw-aedes', log: silentLogger() });
    const sent = new Set<string>();
    outbox.onCommit((rows) => rows.forEach((r) => sent.add((JSON.parse(r.payload.toString()) as { id: string }).id)));
    const fwd = new UpstreamForwarder({ config: upstreamConfig(uplink.url), outbox, gatewayId: 'gw-aedes', log: silentLogger() });
    const args = ['--broker', broker.url, '--db', db.url, '--protocol', '4', '--client-id', 'aedes-collector', '--batch', '100'];
    let collector: CollectorChild | null = null;
    let k = 0;
    const produce = async (n: number) => {
      for (let i = 0; i < n; i++, k++) {
        outbox.put(k % 20 === 0 ? alert(`d${k % 3}/t`, k) : aggregate(`d${k % 5}/t`, k));
        if (i % 50 === 0) await yieldToIo();
      }
      outbox.flush();
    };
    try {
      collector = await startCollector(args);
      await fwd.start();
      await produce(1000);
      await waitFor(() => fwd.stats().acked > 500, 'traffic flowing');
      collector.child.kill('SIGKILL');
      await collector.exited;
      await produce(1000); // queued in the collector's aedes session
      await uplink.stop();
      await waitFor(() => fwd.state() !== 'online', 'gateway offline');
      await produce(1000);
      await uplink.start();
      collector = await startCollector(args);
      await produce(500);
      // PostgreSQL stops mid-stream: nothing more is acknowledged until it is back, then all lands.
      await q.end();
      await db.halt();
      await produce(500);
      await waitFor(() => /database write failed/.test(collector!.output()), 'the collector to log a refused write', 15_000);
      await db.start();
      q = new pg.Client(db.url);
      await q.connect();
      assert.equal(sent.size, 4000);
      const rows = async () => (await q.query('SELECT id FROM edgewise.aggregates UNION ALL SELECT id FROM edgewise.alerts')).rows.map((r) => r.id as string);
      let ids: string[] = [];
      await waitFor(async () => (ids = await rows()).length >= sent.size, 'every row to land', 60_000, 100).catch(() => {}); // the assertion says what is missing
      assert.equal(ids.length, sent.size, `rows landed = messages committed\n${collector.output().slice(-2000)}`);
      assert.deepEqual(new Set(ids), sent);
      assert.equal(Number((await q.query('SELECT count(*) AS n FROM edgewise.gaps')).rows[0].n), 0);
      collector.child.kill('SIGTERM');
      assert.equal(await collector.exited, 0);
    } finally {
      if (collector && collector.child.exitCode === null) collector.child.kill('SIGKILL');
      await fwd.stop();
      outbox.close();
      await uplink.stop();
      await broker.stop();
      tmp.cleanup();
    }
  });
});
