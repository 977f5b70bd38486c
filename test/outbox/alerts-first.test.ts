import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/core/log.js';
import { IngestJournal } from '../../src/journal/journal.js';
import { Outbox } from '../../src/outbox/index.js';
import { UpstreamForwarder } from '../../src/upstream/index.js';
import { aggregate, alert, outboxConfig, raw, tempDir, TestBroker, upstreamConfig, waitFor } from '../upstream/helpers.js';

/** An outbox whose group commit never fires by itself during a test (commit_interval 60 s, window results too unless `aggregate_commit_delay` is given), with the ingest journal in its transactions. */
function setup(over: Record<string, unknown> = {}, monotonic?: () => number) {
  const tmp = tempDir();
  const outbox = Outbox.open({ config: outboxConfig({ commit_interval: 60_000, aggregate_commit_delay: 0, ...over }), dataDir: tmp.dir, gatewayId: 'gw-1', log: silentLogger(), ...(monotonic ? { monotonic } : {}) });
  const journal = new IngestJournal({ lastPos: 0, maxWait: 60_000, unackedWait: 60_000, commit: () => outbox.commitParts(), onError: (err) => assert.fail(err as Error) });
  outbox.addTxPart(journal);
  return {
    outbox,
    journal,
    close() {
      journal.close();
      outbox.close();
      tmp.cleanup();
    },
  };
}

const turn = () => new Promise((r) => setImmediate(r));
// waitFor's bound (30 s; 10 s in the mutation check) is generous for a loaded machine and still
// short of the 60 s group commit, which would satisfy the waits if alerts did not go first.

describe('alerts first: an alert is committed and forwarded without waiting for the group commit', () => {
  it('commits the alert (and the journal entries it came from) at once, forwards it, and leaves aggregates and raw readings to the group commit', async () => {
    const broker = new TestBroker();
    await broker.start();
    const s = setup();
    const fwd = new UpstreamForwarder({ config: upstreamConfig(broker.url), outbox: s.outbox, gatewayId: 'gw-1', log: silentLogger() });
    try {
      await fwd.start();
      await waitFor(() => fwd.state() === 'online', 'online');
      s.journal.append({ stream: 'dev1/temp', ts: 1, value: 99 }, 1);
      let durable = false;
      s.journal.whenDurable(() => (durable = true));
      s.outbox.put(aggregate('dev1/temp', 1));
      s.outbox.put(raw('dev1/temp', 2));
      s.outbox.put(alert('dev1/temp', 3));
      assert.equal(s.outbox.stats().committed, 0, 'nothing is committed synchronously by put()');
      await waitFor(() => broker.messages().length > 0, 'the alert upstream');
      const got = broker.messages().map((m) => JSON.parse(m.payload.toString()) as { kind: string; seq: number });
      assert.deepEqual(got.map((p) => [p.kind, p.seq]), [['alert', 1]]);
      assert.ok(durable, 'the reading journaled before the alert is durable with it (same transaction)');
      const st = s.outbox.stats();
      assert.equal(st.commits, 1);
      assert.equal(st.committed, 1);
      assert.equal(st.pending, 2, 'the aggregate and the raw reading wait for the group commit');
      // The group commit sends the rest; seqs stay gap-free per topic.
      s.outbox.put(alert('dev1/temp', 4));
      s.outbox.flush();
      await waitFor(() => broker.messages().length === 4, 'everything upstream');
      const alerts = broker.messages().map((m) => JSON.parse(m.payload.toString()) as { kind: string; seq: number }).filter((p) => p.kind === 'alert');
      assert.deepEqual(alerts.map((p) => p.seq), [1, 2]);
    } finally {
      await fwd.stop();
      s.close();
      await broker.stop();
    }
  });

  it('an alert after a quiet spell is committed once the work under way is done, without a timer; the next one within alert_commit_delay waits for it', async () => {
    const s = setup({ alert_commit_delay: 60_000 });
    try {
      s.outbox.put(alert('dev1/temp', 1));
      s.outbox.put(alert('dev2/temp', 1));
      assert.equal(s.outbox.stats().commits, 0, 'not inside put()');
      await new Promise((r) => process.nextTick(r));
      assert.equal(s.outbox.stats().commits, 1, 'both committed together right after the current task, not 60 s later');
      assert.equal(s.outbox.stats().committed, 2);
      s.outbox.put(alert('dev1/temp', 2));
      await turn();
      await turn();
      assert.equal(s.outbox.stats().commits, 1, 'a storm costs at most one commit per alert_commit_delay');
      assert.equal(s.outbox.stats().pending, 1);
    } finally {
      s.close();
    }
  });

  it('coalesces an alert storm: alerts raised within alert_commit_delay share one commit', async () => {
    const s = setup({ alert_commit_delay: 2 });
    try {
      const t0 = performance.now();
      let alerts = 0;
      // A storm: 5 alerts (one socket read's worth) in each of 40 turns of the event loop, aggregates among them.
      const turns = 40;
      for (let t = 0; t < turns; t++) {
        for (let i = 0; i < 5; i++) {
          s.outbox.put(alert(`dev${alerts % 7}/temp`, alerts));
          s.outbox.put(aggregate(`dev${alerts % 7}/temp`, alerts));
          alerts++;
        }
        await turn();
      }
      const elapsed = performance.now() - t0;
      await waitFor(() => s.outbox.stats().committed === alerts, 'every alert committed');
      const st = s.outbox.stats();
      // At most one commit per 2 ms (timers fire late, never early), and never one per alert.
      assert.ok(st.commits <= Math.ceil(elapsed / 2) + 1, `${st.commits} commits for ${alerts} alerts in ${elapsed.toFixed(1)} ms`);
      assert.ok(st.commits <= turns + 1, `${st.commits} commits for ${alerts} alerts in ${turns} turns: not coalesced`);
      assert.equal(st.pending, alerts, 'the aggregates still wait for the group commit');
    } finally {
      s.close();
    }
  });

  it('with the ingest journal on, aggregates and raw readings ride on the journal\'s commits instead of waiting for commit_interval', async () => {
    const tmp = tempDir();
    const outbox = Outbox.open({ config: outboxConfig({ commit_interval: 60_000 }), dataDir: tmp.dir, gatewayId: 'gw-1', log: silentLogger() });
    const journal = new IngestJournal({ lastPos: 0, maxWait: 2, unackedWait: 2, commit: () => outbox.commitJournal(), onError: (err) => assert.fail(err as Error) });
    outbox.addTxPart(journal);
    try {
      for (let i = 0; i < 120; i++) {
        journal.append({ stream: 'dev1/temp', ts: i, value: i }, i);
        outbox.put(aggregate(`dev${i}/temp`, i));
      }
      outbox.put(raw('dev1/temp', 1));
      await waitFor(() => outbox.stats().committed === 121, 'the messages committed with the journal');
      // The journal's commit took the first 50 (with all 120 journal entries); the rest followed in slices of 50, one per turn of the event loop.
      assert.equal(journal.stats.commits, 1);
      assert.equal(outbox.stats().commits, 3);
    } finally {
      journal.close();
      outbox.close();
      tmp.cleanup();
    }
  });

  it('alert_commit_delay 0: alerts wait for the group commit like everything else', async () => {
    const off = setup({ alert_commit_delay: 0 });
    const on = setup({ alert_commit_delay: 1 });
    try {
      off.outbox.put(alert('dev1/temp', 1));
      on.outbox.put(alert('dev1/temp', 1));
      await waitFor(() => on.outbox.stats().commits === 1, 'the alert committed where alerts go first');
      assert.equal(off.outbox.stats().commits, 0);
      assert.equal(off.outbox.stats().pending, 1);
    } finally {
      off.close();
      on.close();
    }
  });

  it('a burst\'s tail is followed at most commit_interval from its start: a steady flow of results after it keeps the group commit', async () => {
    let clock = 1_000_000;
    // commit_interval 200 ms of the outbox's monotonic clock; its timer is real, so the test moves the clock, not time.
    const s = setup({ aggregate_commit_delay: 20, commit_interval: 200 }, () => clock);
    try {
      for (let i = 0; i < 60; i++) s.outbox.put(aggregate(`dev${i}/temp`, 1));
      await waitFor(() => s.outbox.stats().pending === 0, 'the burst committed early');
      // One result every 10 ms of the outbox's clock: each gets an early commit while the burst lasts...
      for (let k = 1; k < 20; k++) {
        clock += 10;
        s.outbox.put(aggregate(`late${k}/temp`, 2));
        await waitFor(() => s.outbox.stats().pending === 0, `result ${k} committed early`);
      }
      clock += 10;
      s.outbox.put(aggregate('late20/temp', 2));
      // ...and none past commit_interval from the burst's start: this one waits for the group commit.
      await new Promise((r) => setTimeout(r, 60)); // a negative check's bound: three times aggregate_commit_delay, short of the 200 ms group commit
      assert.equal(s.outbox.stats().pending, 1, 'past the burst, a result waits for the group commit');
    } finally {
      s.close();
    }
  });

  it('a burst of window results is committed aggregate_commit_delay after it reached 50 (not commit_interval) and forwarded, its tail too; raw readings and a few results later still wait for the group commit', async () => {
    const broker = new TestBroker();
    await broker.start();
    // The outbox's monotonic clock stands still unless the test moves it: whether a result belongs to a burst is decided on it.
    let clock = 1_000_000;
    const s = setup({ aggregate_commit_delay: 20 }, () => clock);
    const fwd = new UpstreamForwarder({ config: upstreamConfig(broker.url), outbox: s.outbox, gatewayId: 'gw-1', log: silentLogger() });
    try {
      await fwd.start();
      await waitFor(() => fwd.state() === 'online', 'online');
      s.outbox.put(raw('dev1/temp', 1));
      for (let i = 0; i < 100; i++) s.outbox.put(aggregate(`dev${i}/temp`, 2));
      assert.equal(s.outbox.stats().commits, 0, 'not committed synchronously');
      const upstream = () => new Set(broker.messages().map((m) => `${m.topic} ${m.payload.toString()}`)).size;
      await waitFor(() => s.outbox.stats().pending === 0 && upstream() === 101, 'the window results upstream');
      // The burst's tail: streams whose next reading came after the early commit (within aggregate_commit_delay of it).
      clock += 5;
      for (let i = 100; i < 110; i++) s.outbox.put(aggregate(`dev${i}/temp`, 2));
      await waitFor(() => s.outbox.stats().pending === 0 && upstream() === 111, 'the burst\'s tail upstream without the group commit');
      // Acknowledgements beyond a slice (50) are committed a slice per turn of the event loop, and
      // messages pending then ride along (the commit happens anyway): let every PUBACK arrive and
      // those slices end before the negative check (found under load: 5 failures in 100 runs).
      await waitFor(() => s.outbox.stats().acked + s.outbox.stats().ackedPending === 111, 'every PUBACK');
      for (let i = 0; i < 4; i++) await turn();
      clock += 40; // the burst is over
      s.outbox.put(raw('dev1/temp', 3));
      for (let i = 0; i < 10; i++) s.outbox.put(aggregate(`dev${i}/temp`, 4));
      // A negative check needs a bound: twice aggregate_commit_delay (timers fire in order of expiry).
      await new Promise((r) => setTimeout(r, 40));
      assert.equal(s.outbox.stats().pending, 11, `a raw reading, and window results that come a few at a time (fewer writes to flash), wait for the group commit (outbox ${JSON.stringify(s.outbox.stats())}, ${broker.messages().length} messages upstream)`);
    } finally {
      await fwd.stop();
      s.close();
      await broker.stop();
    }
  });
});
