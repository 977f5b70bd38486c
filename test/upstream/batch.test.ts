/**
 * Compact uplinks (`upstream.batch`) against a real aedes broker: records travel several to a
 * publish, compressed, each with its own id and seq; a batch is acknowledged to the outbox only by
 * its PUBACK, and what was not acknowledged is sent again with the same ids.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { batchJsonBytes, readBatch } from '../../src/upstream/batch.js';
import { payloadSchemas } from '../../src/upstream/payload-schema.js';
import { aggregate, alert, checkSequences, expandBatches, forwarderTo, TestBroker, waitFor } from './helpers.js';

const batch = (over: Record<string, unknown> = {}) => ({ batch: { max_records: 50, max_bytes: '8KB', max_delay: '50ms', compression: 'gzip', ...over } });
const idsOf = (payloads: Buffer[]) => payloads.map((p) => (JSON.parse(p.toString()) as { id: string }).id);

describe('upstream batches (aedes on loopback)', () => {
  it('an outage in mid-stream loses nothing: every record arrives once per id, seq gap-free, in bounded gzip batches', async () => {
    const broker = new TestBroker();
    await broker.start();
    const s = forwarderTo(broker.url, batch());
    const committed = new Set<string>();
    s.outbox.onCommit((rows) => {
      for (const id of idsOf(rows.map((r) => r.payload))) committed.add(id);
    });
    try {
      await s.fwd.start();
      await waitFor(() => s.fwd.state() === 'online', 'online');
      let produced = 0;
      const produce = async (n: number) => {
        for (let i = 0; i < n; i++, produced++) {
          s.outbox.put(produced % 50 === 0 ? alert(`dev${produced % 3}/temp`, produced) : aggregate(`dev${produced % 5}/temp`, produced));
          if (i % 100 === 0) await sleep(2);
        }
      };
      await produce(1500);
      await broker.stop();
      await waitFor(() => s.fwd.state() !== 'online', 'offline');
      await produce(1500);
      s.outbox.flush();
      assert.ok(s.outbox.stats().depth.messages > 0, 'buffered during the outage');
      await broker.start();
      await produce(1000);
      s.outbox.flush();
      await waitFor(() => s.outbox.stats().depth.messages === 0 && s.fwd.stats().inFlight === 0, 'outbox drained');

      const msgs = broker.messages();
      const schema = JSON.parse(readFileSync(join(import.meta.dirname, '../../docs/schemas/batch.schema.json'), 'utf8'));
      const valid = new Ajv2020({ strict: false }).compile(schema);
      assert.ok(msgs.every((m) => m.topic === 'edgewise/v1/gw-1/batch/gzip'), 'only batches, on the gzip batch topic');
      for (const m of msgs) {
        const b = readBatch(m.payload, 'gzip', 1 << 20);
        assert.ok(valid(JSON.parse(gunzipSync(m.payload).toString())), `docs/schemas/batch.schema.json: ${JSON.stringify(valid.errors)}`);
        assert.ok(b.records.length <= 50, 'max_records');
        const json = b.records.reduce<number>((n, r) => n + JSON.stringify(r).length, 0);
        assert.ok(b.records.length === 1 || batchJsonBytes('gw-1', json, b.records.length) <= 8192, 'max_bytes');
        for (const r of b.records) payloadSchemas[(r as { kind: 'aggregate' | 'alert' }).kind].parse(r);
      }
      const check = checkSequences(expandBatches(msgs));
      assert.deepEqual(check.problems, []);
      assert.equal(check.unique, produced, 'every record arrived');
      assert.deepEqual(new Set(expandBatches(msgs).map((m) => JSON.parse(m.payload.toString()).id)), committed, 'with the ids the outbox gave them');
      const st = s.fwd.stats();
      assert.ok(st.batches > 0 && st.batches <= produced / 5, `records shared publishes (${st.batches} batches for ${produced} records)`);
      assert.ok(st.acked >= produced);
      assert.ok(st.reconnects >= 1);
    } finally {
      await s.close();
      await broker.stop();
    }
  });

  it('a batch is acknowledged to the outbox only by its PUBACK; one never acknowledged is sent again, same ids', async () => {
    const broker = new TestBroker();
    broker.hold = true; // accepts the connection, never acknowledges a publish
    await broker.start();
    const s = forwarderTo(broker.url, batch({ max_records: 10, compression: 'deflate' }));
    try {
      await s.fwd.start();
      await waitFor(() => s.fwd.state() === 'online', 'online');
      for (let i = 0; i < 30; i++) s.outbox.put(aggregate(`d${i % 4}/t`, i));
      s.outbox.flush();
      await waitFor(() => broker.held === 3, 'three batches published');
      s.outbox.flush();
      assert.equal(s.fwd.stats().acked, 0);
      assert.equal(s.outbox.stats().depth.messages, 30, 'nothing acknowledged without a PUBACK');
      const sent = idsOf(s.outbox.readFrom(1, 0, 100).map((r) => r.payload));

      await broker.stop(); // the batches in flight are lost with the connection
      broker.hold = false;
      await broker.start();
      await waitFor(() => s.outbox.stats().depth.messages === 0, 'resent and acknowledged');
      const got = expandBatches(broker.messages());
      assert.ok(broker.messages().every((m) => m.topic === 'edgewise/v1/gw-1/batch/deflate'));
      assert.deepEqual(got.map((m) => JSON.parse(m.payload.toString()).id).sort(), [...sent].sort(), 'each record once, under its first id');
      assert.deepEqual(checkSequences(got).problems, []);
    } finally {
      await s.close();
      await broker.stop();
    }
  });

  it('a record waits up to max_delay for others; on stop what waits is sent, not lost', async () => {
    const broker = new TestBroker();
    await broker.start();
    const s = forwarderTo(broker.url, batch({ max_records: 5, max_delay: '60s', compression: 'none' }));
    try {
      await s.fwd.start();
      await waitFor(() => s.fwd.state() === 'online', 'online');
      for (let i = 0; i < 6; i++) s.outbox.put(aggregate('d/t', i));
      s.outbox.flush();
      await waitFor(() => broker.messages().length === 1 && s.fwd.stats().inFlight === 1, 'a full batch sent, one record waiting');
      assert.equal(readBatch(broker.messages()[0]!.payload, 'none', 1 << 20).records.length, 5);
      assert.equal(broker.messages()[0]!.topic, 'edgewise/v1/gw-1/batch');
      await s.fwd.stop();
      s.outbox.flush();
      assert.equal(broker.messages().length, 2, 'the waiting record went on stop');
      assert.equal(s.outbox.stats().depth.messages, 0);
      assert.deepEqual(checkSequences(expandBatches(broker.messages())).problems, []);
    } finally {
      await s.close();
      await broker.stop();
    }
  });
});
