import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { payloadSchemas } from '../../src/upstream/payload-schema.js';
import { silentLogger } from '../../src/core/log.js';
import { Outbox } from '../../src/outbox/index.js';
import { UpstreamForwarder } from '../../src/upstream/index.js';
import { linkSummary } from '../../src/upstream/link-summary.js';
import { setTimeout as hold, setImmediate as yieldToIo } from 'node:timers/promises';
import { aggregate, alert, checkSequences, forwarderTo, outboxConfig, raw, tempDir, TestBroker, upstreamConfig, waitFor, warnings, expandBatches } from './helpers.js';

function setup(broker: TestBroker, upOver: Record<string, unknown> = {}) {
  return forwarderTo(broker.url, upOver);
}

/** A broker that is down, and the port it comes back on (the forwarder starts against it first). */
async function brokerDown(): Promise<{ broker: TestBroker; port: number }> {
  const broker = new TestBroker();
  await broker.start();
  const port = broker.port;
  await broker.stop();
  return { broker, port };
}

describe('upstream forwarder (aedes on loopback)', () => {
  it('an upstream outage in mid-stream loses nothing: every message arrives, seq gap-free, duplicates share ids', async () => {
    const broker = new TestBroker();
    await broker.start();
    const s = await setup(broker);
    try {
      await s.fwd.start();
      await waitFor(() => s.fwd.state() === 'online', 'online');
      let produced = 0;
      const produce = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const k = produced++;
          if (k % 50 === 0) s.outbox.put(alert(`dev${k % 3}/temp`, k));
          else s.outbox.put(aggregate(`dev${k % 5}/temp`, k));
          if (k % 100 === 0) await yieldToIo(); // let the forwarder's I/O run between bursts
        }
      };
      await produce(2000);
      assert.equal(linkSummary(s.fwd.stats()), 'online', 'nothing has gone wrong yet');
      const outageAt = Date.now();
      await broker.stop(); // outage in mid-stream
      await waitFor(() => s.fwd.state() !== 'online', 'offline');
      await produce(3000); // buffered
      s.outbox.flush();
      assert.ok(s.outbox.stats().depth.messages > 0, 'messages buffered during the outage');
      await broker.start(); // same port
      const more = produce(2000); // fresh messages while the backlog drains
      await more;
      s.outbox.flush();
      await waitFor(() => s.outbox.stats().depth.messages === 0 && s.fwd.stats().inFlight === 0, 'outbox drained');
      const msgs = broker.messages();
      const check = checkSequences(msgs);
      assert.deepEqual(check.problems, []);
      assert.equal(check.unique, produced, 'every message arrived');
      assert.ok(s.fwd.stats().reconnects >= 1);
      assert.ok(broker.statuses.includes('online'));
      // Back online, the outage's error is history: when it happened, not the link's state.
      const st = s.fwd.stats();
      assert.ok(st.lastError && st.lastErrorAt !== undefined && st.lastErrorAt >= outageAt && st.lastErrorAt <= Date.now(), JSON.stringify(st));
      assert.equal(linkSummary(st), `online (last error at ${new Date(st.lastErrorAt).toISOString()}: ${st.lastError})`);
      // Payloads are what the published schemas say.
      for (const m of msgs.slice(0, 200)) {
        const p = JSON.parse(m.payload.toString());
        payloadSchemas[p.kind as 'aggregate' | 'alert'].parse(p);
        assert.equal(m.topic, `edgewise/v1/gw-1/${p.kind}/${p.stream}`);
      }
    } finally {
      await s.close();
      await broker.stop();
    }
  });

  it('drains a backlog alerts first, then aggregates, then raw', async () => {
    const { broker, port } = await brokerDown();
    const s = await setup(broker, { max_inflight: 10 });
    try {
      broker.port = port;
      for (let i = 0; i < 300; i++) s.outbox.put(raw('d/r', i));
      for (let i = 0; i < 200; i++) s.outbox.put(aggregate('d/g', i));
      for (let i = 0; i < 100; i++) s.outbox.put(alert('d/a', i));
      s.outbox.flush();
      await s.fwd.start(); // broker down: keeps trying, never throws
      await waitFor(() => s.fwd.stats().disconnects >= 2, 'two failed attempts');
      assert.notEqual(s.fwd.state(), 'online');
      await broker.start();
      await waitFor(() => s.outbox.stats().depth.messages === 0, 'drained');
      const kinds = broker.messages().map((m) => JSON.parse(m.payload.toString()).kind as string);
      const firstAgg = kinds.indexOf('aggregate');
      const firstRaw = kinds.indexOf('reading');
      assert.equal(kinds.lastIndexOf('alert') < firstAgg, true, 'all alerts before any aggregate');
      assert.equal(kinds.lastIndexOf('aggregate') < firstRaw, true, 'all aggregates before any raw');
      assert.deepEqual(checkSequences(broker.messages()).problems, []);
    } finally {
      await s.close();
      await broker.stop();
    }
  });

  it('fresh messages committed together go out alerts first, then aggregates, then raw', async () => {
    const broker = new TestBroker();
    await broker.start();
    const s = await setup(broker, { max_inflight: 1 });
    try {
      await s.fwd.start();
      await waitFor(() => s.fwd.state() === 'online', 'online');
      for (let i = 0; i < 30; i++) s.outbox.put(raw('d/r', i));
      for (let i = 0; i < 20; i++) s.outbox.put(aggregate('d/g', i));
      for (let i = 0; i < 10; i++) s.outbox.put(alert('d/a', i));
      s.outbox.flush(); // one commit: all 60 reach the fresh lane at once
      await waitFor(() => s.outbox.stats().depth.messages === 0, 'drained');
      const kinds = broker.messages().map((m) => JSON.parse(m.payload.toString()).kind as string);
      assert.equal(kinds.length, 60);
      assert.ok(kinds.lastIndexOf('alert') < kinds.indexOf('aggregate'), `all alerts before any aggregate: ${kinds.join(',')}`);
      assert.ok(kinds.lastIndexOf('aggregate') < kinds.indexOf('reading'), `all aggregates before any raw: ${kinds.join(',')}`);
    } finally {
      await s.close();
      await broker.stop();
    }
  });

  it('fresh messages flow while a rate-limited backlog drains, and each topic stays in order', async () => {
    const { broker, port } = await brokerDown();
    const s = await setup(broker, { drain_rate: 300, max_inflight: 20 });
    try {
      broker.port = port;
      for (let i = 0; i < 600; i++) s.outbox.put(raw('d/backlog', i)); // 2 s of drain at 300/s
      for (let i = 0; i < 5; i++) s.outbox.put(aggregate('d/both', i)); // a topic with backlog...
      s.outbox.flush();
      await s.fwd.start();
      await broker.start();
      await waitFor(() => s.fwd.state() === 'online', 'online');
      for (let i = 0; i < 20; i++) {
        s.outbox.put(aggregate('d/fresh', i)); // ...and fresh topics
        s.outbox.put(aggregate('d/both', 100 + i));
        // Spread the fresh messages over the drain: each waits for a few more PUBACKs.
        const acked = s.fwd.stats().acked;
        await waitFor(() => s.fwd.stats().acked >= acked + 3, 'the drain to go on');
      }
      s.outbox.flush();
      await waitFor(() => s.outbox.stats().depth.messages === 0, 'drained', 60_000);
      const msgs = broker.messages().map((m) => ({ topic: m.topic, p: JSON.parse(m.payload.toString()) }));
      const lastBacklog = msgs.map((m) => m.p.stream).lastIndexOf('d/backlog');
      const firstFresh = msgs.findIndex((m) => m.p.stream === 'd/fresh');
      assert.ok(firstFresh >= 0 && firstFresh < lastBacklog, `fresh message arrived (at ${firstFresh}) before the backlog finished (at ${lastBacklog})`);
      for (const topic of new Set(msgs.map((m) => m.topic))) {
        const seqs = msgs.filter((m) => m.topic === topic).map((m) => m.p.seq);
        assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), `${topic} arrived in order`);
      }
      assert.ok(s.fwd.stats().sentBacklog >= 600);
    } finally {
      await s.close();
      await broker.stop();
    }
  });

  it('with drain_rate, a wall clock stepped back an hour mid-drain (NTP on a gateway without a real-time clock) does not stall the drain', async () => {
    const { broker, port } = await brokerDown();
    const s = await setup(broker, { drain_rate: 300, max_inflight: 20 });
    const wallNow = Date.now;
    try {
      broker.port = port;
      for (let i = 0; i < 600; i++) s.outbox.put(raw('d/backlog', i)); // 2 s of drain at 300/s
      s.outbox.flush();
      await s.fwd.start();
      await broker.start();
      await waitFor(() => s.fwd.stats().acked >= 100, 'the drain under way');
      const back = wallNow() - 3_600_000;
      const started = wallNow();
      Date.now = () => back + (wallNow() - started);
      // Before: tokens were refilled by Date.now() differences, an hour back made them −1,080,000 (an hour's worth).
      await waitFor(() => s.outbox.stats().depth.messages === 0, 'drained with the wall clock an hour back');
      assert.deepEqual(checkSequences(broker.messages()).problems, []);
    } finally {
      Date.now = wallNow;
      await s.close();
      await broker.stop();
    }
  });

  it('with drain_rate, only what was buffered before the connection is metered: topics that all carry fresh data catch up', async () => {
    const { broker, port } = await brokerDown();
    const s = await setup(broker, { drain_rate: 500, max_inflight: 50 });
    try {
      broker.port = port;
      for (let i = 0; i < 500; i++) s.outbox.put(raw(`d${i % 10}/r`, i)); // backlog on every topic: 1 s at 500/s
      s.outbox.flush();
      await s.fwd.start();
      await broker.start();
      await waitFor(() => s.fwd.state() === 'online', 'online');
      // Fresh data on every topic at 2,000/s, four times drain_rate: the old forwarder sent it all at drain_rate.
      let n = 500;
      let caughtUp = false;
      for (let t = 0; t < 150 && !caughtUp; t++) {
        for (let k = 0; k < 20; k++, n++) s.outbox.put(raw(`d${n % 10}/r`, n));
        // Fresh data keeps coming while the drain goes on: a few more PUBACKs between bursts.
        const acked = s.fwd.stats().acked;
        await waitFor(() => s.fwd.stats().acked >= acked + 5, 'the drain to go on');
        caughtUp = s.fwd.stats().backlogKeys === 0;
      }
      assert.ok(caughtUp, `every topic left the backlog lane while fresh data kept coming: ${JSON.stringify(s.fwd.stats())}`);
      assert.ok(s.fwd.stats().sentMetered <= 500, 'only the rows buffered before the connection were metered');
      s.outbox.flush();
      await waitFor(() => s.outbox.stats().depth.messages === 0, 'drained');
      const check = checkSequences(broker.messages());
      assert.deepEqual(check.problems, []);
      assert.equal(check.unique, n);
    } finally {
      await s.close();
      await broker.stop();
    }
  });

  it('a TCP probe reconnects to a broker that is back at once, not after the long backoff', async () => {
    const { broker, port } = await brokerDown();
    // The first retry waits 15–30 s; the probe looks every 100 ms.
    const s = await setup(broker, { reconnect_min: 30_000, reconnect_max: 60_000, reconnect_probe: 100 });
    try {
      broker.port = port;
      await s.fwd.start();
      await waitFor(() => s.fwd.stats().disconnects >= 1, 'the first attempt failed');
      assert.ok(s.fwd.stats().nextRetryMs >= 15_000);
      assert.equal(s.fwd.stats().probeReconnects, 0, 'probes find nobody');
      await broker.start();
      await waitFor(() => s.fwd.state() === 'online', 'online long before the backoff ran out', 10_000);
      assert.equal(s.fwd.stats().probeReconnects, 1);
    } finally {
      await s.close();
      await broker.stop();
    }
  });

  it('the backoff starts over after a connection that lasted, not after one that dropped at once', async () => {
    const { broker, port } = await brokerDown();
    const tmp = tempDir();
    const outbox = Outbox.open({ config: outboxConfig(), dataDir: tmp.dir, gatewayId: 'gw-1', log: silentLogger() });
    const fwd = new UpstreamForwarder({ config: upstreamConfig(broker.url, { reconnect_min: 20, reconnect_max: 2000, reconnect_probe: 0 }), outbox, gatewayId: 'gw-1', log: silentLogger(), stableAfterMs: 1500 });
    const outage = async (failures: number) => {
      const n = fwd.stats().disconnects; // before the stop: the connection may be seen lost while the broker closes
      await broker.stop();
      await waitFor(() => fwd.stats().disconnects >= n + failures, `${failures} failed attempts`, 30_000, 2);
    };
    try {
      broker.port = port;
      await fwd.start();
      await waitFor(() => fwd.stats().disconnects >= 5, 'five failed attempts', 30_000, 2); // delays grow to ≥ 160 ms
      await broker.start();
      await waitFor(() => fwd.state() === 'online', 'online');
      // Dropped at once (well under stableAfterMs online, also on a loaded machine): the next delay keeps growing.
      await outage(1);
      assert.ok(fwd.stats().nextRetryMs > 100, `no reset after a short connection: ${fwd.stats().nextRetryMs} ms`);
      await broker.start();
      await waitFor(() => fwd.state() === 'online', 'online');
      await hold(1600); // the feature's input: a connection that lasts longer than stableAfterMs (1500)
      await outage(1);
      assert.ok(fwd.stats().nextRetryMs <= 20, `reset after a lasting connection: ${fwd.stats().nextRetryMs} ms`);
    } finally {
      await fwd.stop();
      outbox.close();
      tmp.cleanup();
      await broker.stop();
    }
  });

  it('announces online (retained birth) and offline (on stop), and stop() sends nothing new', async () => {
    const broker = new TestBroker();
    await broker.start();
    const s = await setup(broker);
    try {
      await s.fwd.start();
      await waitFor(() => broker.statuses.includes('online'), 'birth');
      const birth = broker.received.find((r) => r.topic === 'edgewise/v1/gw-1/status')!;
      assert.equal(birth.retain, true);
      payloadSchemas.status.parse(JSON.parse(birth.payload.toString()));
      await s.fwd.stop();
      assert.equal(s.fwd.state(), 'stopped');
      assert.equal(broker.statuses.at(-1), 'offline');
      const sent = s.fwd.stats().sent;
      s.outbox.put(alert('d/a', 1));
      s.outbox.flush();
      assert.equal(s.fwd.stats().sent, sent, 'a stopped forwarder publishes nothing');
      assert.equal(broker.messages().length, 0);
      assert.equal(s.outbox.stats().depth.messages, 1, 'kept for the next start');
    } finally {
      await s.close();
      await broker.stop();
    }
  });

  it('a stop while publishes await their PUBACK, and the connection drops meanwhile (a broker restarted with the gateway): stop resolves at once, without a goodbye on the dead connection; the records stay in the outbox', { timeout: 8_000 }, async () => {
    const broker = new TestBroker();
    await broker.start();
    const s = await setup(broker, { stop_timeout: '12s' });
    try {
      await s.fwd.start();
      await waitFor(() => s.fwd.state() === 'online', 'online');
      broker.hold = true; // no PUBACK: stop() waits for them
      for (let i = 0; i < 5; i++) s.outbox.put(aggregate('d/x', i));
      s.outbox.flush();
      await waitFor(() => broker.held >= 5, 'five publishes held by the broker');
      const stopping = s.fwd.stop();
      broker.cutConnections();
      await stopping; // before: waited all of stop_timeout, then threw in mqtt.js (the goodbye published on the ended client)
      assert.equal(s.fwd.state(), 'stopped');
      assert.equal(s.outbox.stats().depth.messages, 5, 'unacknowledged: kept for the next start');
    } finally {
      await s.close();
      await broker.stop();
    }
  });

  it('an outage with publishes in flight is one close, not one per refused attempt: the backlog goes in full batches afterwards, not one record at a time', async () => {
    const broker = new TestBroker();
    await broker.start();
    const { log, lines } = warnings();
    const s = forwarderTo(broker.url, { reconnect_min: 20, reconnect_max: 40, reconnect_probe: 0, batch: { max_records: 50, max_delay: '20ms' } }, 'gw-1', log);
    try {
      await s.fwd.start();
      await waitFor(() => s.fwd.state() === 'online', 'online');
      broker.hold = true; // the broker takes the publishes and never acknowledges them
      for (let i = 0; i < 100; i++) s.outbox.put(aggregate(`dev${i % 4}/temp`, i));
      s.outbox.flush();
      await waitFor(() => s.fwd.stats().inFlight > 0, 'publishes in flight');
      await broker.stop();
      const downAt = s.fwd.stats().disconnects;
      await waitFor(() => s.fwd.stats().disconnects >= downAt + 4, 'four refused attempts');
      broker.hold = false;
      await broker.start();
      await waitFor(() => s.outbox.stats().depth.messages === 0 && s.fwd.stats().inFlight === 0, 'drained');
      assert.deepEqual(
        lines.filter((l) => /one at a time/.test(l)),
        [],
        'a refused connection attempt had nothing in flight: it is no strike, and probing (one record a publish) never starts',
      );
      assert.ok(s.fwd.stats().batches <= 6, `the 100 records went in batches of up to 50 (${s.fwd.stats().batches} batches, some sent before the outage)`);
      assert.equal(checkSequences(expandBatches(broker.messages())).unique, 100, 'every record arrived');
    } finally {
      await s.close();
      await broker.stop();
    }
  });

  it('keeps retrying with growing, jittered, capped delays while the broker is down, and stops cleanly', async () => {
    const broker = new TestBroker();
    await broker.start();
    await broker.stop(); // a port with nobody listening
    const s = await setup(broker, { reconnect_min: 20, reconnect_max: 160 });
    try {
      await s.fwd.start();
      const delays: number[] = [];
      await waitFor(() => {
        const d = s.fwd.stats().nextRetryMs;
        if (d && d !== delays.at(-1)) delays.push(d);
        return s.fwd.stats().disconnects >= 6;
      }, 'several failed attempts', 30_000, 2);
      assert.notEqual(s.fwd.state(), 'online');
      assert.ok(delays.every((d) => d >= 10 && d <= 160), `delays within [min/2, max]: ${delays}`);
      assert.ok(Math.max(...delays) > 40, `delays grow: ${delays}`);
      await s.fwd.stop();
      assert.equal(s.fwd.state(), 'stopped');
      const n = s.fwd.stats().disconnects;
      await hold(300); // a negative check: longer than reconnect_max (160), and no attempt came
      assert.equal(s.fwd.stats().disconnects, n, 'no attempts after stop()');
    } finally {
      await s.close();
    }
  });
});
