import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import mqttPacket from 'mqtt-packet';
import { parseGatewayText } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/log.js';
import type { Emission } from '../../src/core/records.js';
import { Outbox } from '../../src/outbox/index.js';
import { OUTBOX_SCHEMA_VERSION } from '../../src/outbox/migrate.js';
import { readJournal, journalDeliveries } from '../../src/journal/journal.js';
import { serialize } from 'node:v8';
import { Gateway } from '../../src/runtime/gateway.js';
import { outboxConfig, tempDir } from '../upstream/helpers.js';
import { freePort, waitFor } from './helpers.js';

const PIPELINE = `
name: temps
input: { streams: ["*/temp"] }
steps:
  - window: { type: tumbling, size: 10s, aggregates: [count, mean] }
  - detect: { detector: ewma, field: mean, output: alerts }
  - output: agg
`;

function gateway(dir: string, inputs: string, onEmission?: (e: Emission) => void, extra = '') {
  writeFileSync(join(dir, 'temps.yaml'), PIPELINE);
  const yaml = `gateway: { id: gw-state, data_dir: data }\ninputs: ${inputs}\npipelines: [temps.yaml]\noutbox: {}\n${extra}`;
  const loaded = parseGatewayText(yaml, join(dir, 'edgewise.yaml'), {}, dir);
  return new Gateway({ config: loaded.config, pipelines: loaded.pipelines.map((p) => p.spec), baseDir: dir, log: silentLogger(), onEmission, tickMs: 60_000 });
}

const T0 = Date.UTC(2026, 0, 1);

test('state: a clean restart keeps open windows and detector baselines (in the outbox database)', async (t) => {
  const { dir, cleanup } = tempDir('edgewise-state-');
  t.after(cleanup);
  const a = gateway(dir, '[]');
  await a.start();
  for (let i = 0; i < 600; i++) a.push({ stream: "m1/temp", ts: T0 + i * 1000, value: 20 + (i % 3) });
  // Every reading a driver hands over (serial, GPIO, MQTT alike) is journaled as it is accepted.
  assert.equal(a.stats().state!.journal!.appended, 600);
  await a.stop();
  const db = new Database(join(dir, 'data', 'outbox.db'), { readonly: true });
  // The live checkpoint's generation (one written earlier may still be there until it is deleted).
  const parts = db.prepare("SELECT DISTINCT pipeline, part, version FROM state WHERE gen = (SELECT v FROM meta WHERE k = 'checkpoint_gen') ORDER BY pipeline, part").all();
  db.close();
  assert.deepEqual(parts, [
    { pipeline: '*outbox', part: 'ids', version: 1 },
    { pipeline: 'temps', part: 'detect:ewma', version: 1 },
    { pipeline: 'temps', part: 'keys', version: 1 },
    { pipeline: 'temps', part: 'window', version: 1 },
  ]);
  const seen: Emission[] = [];
  const b = gateway(dir, '[]', (e) => seen.push(e));
  await b.start();
  assert.equal(b.stats().state!.restored.failed, 0);
  // A spike: the restored baseline flags it (a fresh EWMA would still be in its 50-window warm-up).
  for (let i = 600; i < 660; i++) b.push({ stream: "m1/temp", ts: T0 + i * 1000, value: i === 635 ? 90 : 20 + (i % 3) });
  await b.stop();
  assert.ok(seen.some((e) => e.kind === 'alert' && e.alert.state === 'raised'), 'the spike raised an alert right after the restart');
});

test('state: detector-state.json of older versions is taken once; an unrestorable part is kept aside and only it starts fresh', async (t) => {
  const { dir, cleanup } = tempDir('edgewise-state-');
  t.after(cleanup);
  // Save real detector state, then write it in the old file format.
  const a = gateway(dir, '[]');
  await a.start();
  for (let i = 0; i < 200; i++) a.push({ stream: 'm1/temp', ts: T0 + i * 1000, value: 20 });
  const snap = (a as unknown as { pipelines: Array<{ snapshot(): { parts: Record<string, { data: Array<[string, unknown]> }> } }> }).pipelines[0]!.snapshot();
  await a.stop();
  const { cleanup: c2, dir: dir2 } = tempDir('edgewise-state-');
  t.after(c2);
  mkdirSync(join(dir2, 'data'));
  const keys: Record<string, Record<string, unknown>> = {};
  for (const [stream, st] of snap.parts['detect:ewma']!.data) keys[stream] = { ewma: st };
  writeFileSync(join(dir2, 'data', 'detector-state.json'), JSON.stringify({ version: 1, pipelines: [{ pipeline: 'temps', keys }, { pipeline: 'gone', keys: { 'x/temp': { ewma: {} } } }] }));
  const b = gateway(dir2, '[]');
  await b.start();
  const st = b.stats().state!;
  assert.equal(st.restored.parts, 1, 'the detect step came back from detector-state.json');
  assert.equal(st.restored.failed, 1, 'the pipeline that is gone is kept aside');
  assert.ok(existsSync(join(dir2, 'data', 'detector-state.json.migrated')));
  await b.stop();
  const db = new Database(join(dir2, 'data', 'outbox.db'), { readonly: true });
  const aside = db.prepare('SELECT pipeline, part, error FROM state_aside').all() as Array<{ pipeline: string; part: string; error: string }>;
  db.close();
  assert.deepEqual(aside.map((r) => [r.pipeline, r.part]), [['gone', 'detect:ewma']]);
  assert.match(aside[0]!.error, /no pipeline of this name/);
});

test('outbox: a file of schema version 1 is migrated in place, its backlog kept', () => {
  const { dir, cleanup } = tempDir('edgewise-migrate-');
  try {
    // The version 1 layout, as 0.1 wrote it, with one buffered message.
    const db = new Database(join(dir, 'outbox.db'));
    db.exec(`
      CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE keys (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, stream TEXT NOT NULL, last_seq INTEGER NOT NULL);
      CREATE TABLE messages (priority INTEGER NOT NULL, id INTEGER NOT NULL, key_id INTEGER NOT NULL, seq INTEGER NOT NULL,
        created INTEGER NOT NULL, payload BLOB NOT NULL, PRIMARY KEY (priority, id)) WITHOUT ROWID;
      CREATE TABLE dead_letters (id INTEGER PRIMARY KEY, source TEXT NOT NULL, reason TEXT NOT NULL, at INTEGER NOT NULL, detail TEXT, sample TEXT NOT NULL);
      INSERT INTO meta VALUES ('epoch', 'e1'), ('schema', '1'), ('next_id', '2');
      INSERT INTO keys VALUES (1, 'aggregate', 'd/t', 7);
    `);
    db.prepare('INSERT INTO messages VALUES (1, 1, 1, 7, ?, ?)').run(Date.now(), Buffer.from('{"id":"e1-1"}'));
    db.close();
    const o = Outbox.open({ config: outboxConfig(), dataDir: dir, gatewayId: 'gw', log: silentLogger() });
    assert.equal(o.stats().recoveries, 0, 'not set aside');
    assert.equal(o.stats().depth.messages, 1, 'the backlog is kept');
    assert.equal(o.epochId, 'e1');
    o.put({ kind: 'aggregate', pipeline: 'p', output: 'o', result: { stream: 'd/t', window: 'tumbling', start: 0, end: 1, count: 1, values: {} } });
    o.flush();
    assert.equal(JSON.parse(o.readFrom(1, 1, 10)[0]!.payload.toString()).seq, 8, 'seq continues');
    o.close();
    const after = new Database(join(dir, 'outbox.db'), { readonly: true });
    assert.equal(after.prepare("SELECT v FROM meta WHERE k = 'schema'").pluck().get(), String(OUTBOX_SCHEMA_VERSION));
    after.close();
  } finally {
    cleanup();
  }
});

test('outbox: the ingest journal of a version-4 file (a row per entry) becomes blocks, every entry as it was, in order', () => {
  const { dir, cleanup } = tempDir('edgewise-migrate4-');
  try {
    Outbox.open({ config: outboxConfig(), dataDir: dir, gatewayId: 'gw', log: silentLogger() }).close();
    // Back to the version-4 journal: columns, fields and tags as JSON text, v8-serialised readings, ticks, delivery keys.
    const db = new Database(join(dir, 'outbox.db'));
    db.exec(`DROP TABLE journal_blocks; UPDATE meta SET v = '4' WHERE k = 'schema';
      CREATE TABLE journal (pos INTEGER PRIMARY KEY, at INTEGER NOT NULL, stream TEXT, ts, value, extra BLOB, src TEXT);`);
    const ins = db.prepare('INSERT INTO journal (pos, at, stream, ts, value, extra, src) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const N = 4500; // more than one block of the migration
    for (let pos = 1; pos <= N; pos++) {
      if (pos % 1000 === 0) ins.run(pos, 1000 + pos, null, null, null, null, null); // a tick
      else if (pos % 7 === 0) ins.run(pos, 1000 + pos, null, null, null, serialize({ stream: 'a/t', ts: pos, value: Number.NaN }), null);
      else if (pos % 5 === 0) ins.run(pos, 1000 + pos, `d${pos % 3}/t`, pos, pos / 2, JSON.stringify({ fields: { n: pos }, tags: { u: 'C' } }), `dev\u0000${pos}\u0000h`);
      else ins.run(pos, 1000 + pos, `d${pos % 3}/t`, pos, pos / 2, null, null);
    }
    db.close();
    const o = Outbox.open({ config: outboxConfig(), dataDir: dir, gatewayId: 'gw', log: silentLogger() });
    assert.equal(o.stats().recoveries, 0, 'not set aside');
    const back = [...readJournal(o.database, 0)];
    assert.equal(back.length, N);
    for (const [i, e] of back.entries()) {
      const pos = i + 1;
      assert.equal(e.pos, pos);
      assert.equal(e.at, 1000 + pos);
      if (pos % 1000 === 0) assert.ok('tick' in e, `pos ${pos}: a tick`);
      else if (pos % 7 === 0) assert.deepEqual('reading' in e && e.reading, { stream: 'a/t', ts: pos, value: Number.NaN });
      else if (pos % 5 === 0) assert.deepEqual(e, { pos, at: 1000 + pos, reading: { stream: `d${pos % 3}/t`, ts: pos, value: pos / 2, fields: { n: pos }, tags: { u: 'C' } }, src: `dev\u0000${pos}\u0000h` });
      else assert.deepEqual(e, { pos, at: 1000 + pos, reading: { stream: `d${pos % 3}/t`, ts: pos, value: pos / 2 } });
    }
    assert.equal(journalDeliveries(o.database).length, back.filter((e) => 'src' in e).length);
    assert.deepEqual([...readJournal(o.database, 4400)].map((e) => e.pos), Array.from({ length: 100 }, (_, i) => 4401 + i), 'a replay from a checkpoint position inside a block');
    o.close();
    const after = new Database(join(dir, 'outbox.db'), { readonly: true });
    assert.equal(after.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'journal'").pluck().get(), 0, 'the row table is gone');
    after.close();
  } finally {
    cleanup();
  }
});

test('outbox: a file of schema version 3 is migrated in place; the message ids it remembered are still refused', () => {
  const { dir, cleanup } = tempDir('edgewise-migrate3-');
  const agg = (start: number): Emission => ({ kind: 'aggregate', pipeline: 'p', output: 'o', result: { stream: 'd/t', window: 'tumbling', start, end: start + 1000, count: 1, values: {} } });
  try {
    const o = Outbox.open({ config: outboxConfig(), dataDir: dir, gatewayId: 'gw', log: silentLogger() });
    o.trackIds();
    o.put(agg(0));
    o.flush();
    o.close();
    // Back to the version-3 layout of seen_ids (an indexed primary key), its ids kept.
    const db = new Database(join(dir, 'outbox.db'));
    db.exec(`ALTER TABLE seen_ids RENAME TO old; CREATE TABLE seen_ids (id TEXT PRIMARY KEY) WITHOUT ROWID;
      INSERT INTO seen_ids SELECT id FROM old; DROP TABLE old; UPDATE meta SET v = '3' WHERE k = 'schema';`);
    assert.equal(db.prepare('SELECT count(*) FROM seen_ids').pluck().get(), 1);
    db.close();
    const again = Outbox.open({ config: outboxConfig(), dataDir: dir, gatewayId: 'gw', log: silentLogger() });
    again.trackIds();
    assert.equal(again.stats().recoveries, 0, 'not set aside');
    again.put(agg(0)); // a replay's copy
    again.put(agg(1000));
    again.flush();
    assert.equal(again.stats().duplicateIds, 1, 'the remembered id is refused');
    assert.equal(again.stats().depth.messages, 2);
    again.close();
    const after = new Database(join(dir, 'outbox.db'), { readonly: true });
    assert.equal(after.prepare("SELECT v FROM meta WHERE k = 'schema'").pluck().get(), String(OUTBOX_SCHEMA_VERSION));
    assert.doesNotMatch(after.prepare("SELECT sql FROM sqlite_master WHERE name = 'seen_ids'").pluck().get() as string, /PRIMARY KEY/, 'no index on the ids any more');
    assert.equal(after.prepare('SELECT count(*) FROM seen_ids').pluck().get(), 2);
    after.close();
  } finally {
    cleanup();
  }
});

test('a failed start stops what it had started: no listening port, the outbox closed', async (t) => {
  const { dir, cleanup } = tempDir('edgewise-failstart-');
  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  t.after(() => {
    busy.close();
    cleanup();
  });
  const first = await freePort();
  const taken = (busy.address() as net.AddressInfo).port;
  const gw = gateway(dir, `[{ name: a, type: mqtt, broker: { port: ${first} } }, { name: b, type: mqtt, broker: { port: ${taken} } }]`);
  await assert.rejects(gw.start(), /cannot listen on 127\.0\.0\.1:\d+: the port is in use/);
  // The first input's broker no longer listens.
  await assert.rejects(
    new Promise<void>((resolve, reject) => {
      const s = net.connect(first, '127.0.0.1', () => {
        s.destroy();
        resolve();
      });
      s.on('error', reject);
    }),
    /ECONNREFUSED/,
  );
  // The outbox is closed: another process could open and lock it for writing at once.
  const db = new Database(join(dir, 'data', 'outbox.db'), { timeout: 0 });
  db.exec('BEGIN EXCLUSIVE; COMMIT;');
  db.close();
  assert.equal((gw as unknown as { outbox: Outbox }).outbox.isClosed, true);
});

test('a QoS 1 delivery sent again after its PUBACK was lost is acknowledged and not taken twice', async (t) => {
  const { dir, cleanup } = tempDir('edgewise-redeliver-');
  const port = await freePort();
  const gw = gateway(dir, `[{ name: a, type: mqtt, broker: { port: ${port} } }]`);
  t.after(async () => {
    await gw.stop();
    cleanup();
  });
  await gw.start();
  const publish = mqttPacket.generate({ cmd: 'publish', topic: 'sensors/m1/temp', payload: JSON.stringify({ ts: T0, value: 21 }), qos: 1, messageId: 7, dup: false, retain: false });
  const sendOnce = async (packet: Buffer) => {
    const s = net.connect({ port, host: '127.0.0.1', noDelay: true });
    const parser = mqttPacket.parser();
    const got: string[] = [];
    parser.on('packet', (p) => got.push(p.cmd));
    s.on('data', (d) => parser.parse(d));
    s.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'dev-1', keepalive: 30 }));
    await waitFor(() => got.includes('connack'), 'CONNACK');
    s.write(packet);
    await waitFor(() => got.includes('puback'), 'PUBACK');
    s.destroy();
  };
  await sendOnce(publish);
  await sendOnce(publish); // the device did not see the first PUBACK: same packet id, same payload
  const st = gw.stats();
  assert.equal(st.pipelines[0]!.received, 1, 'the reading was taken once');
  assert.equal(st.inputs[0]!.counters.redelivered, 1, 'the resend is counted');
  assert.equal(st.state!.redelivered, 1);
});

test('durability: off journals nothing and still saves state at a clean stop: the detector baseline survives a restart', async (t) => {
  const { dir, cleanup } = tempDir('edgewise-off-');
  t.after(cleanup);
  const off = 'state: { durability: off }\n';
  const a = gateway(dir, '[]', undefined, off);
  await a.start();
  for (let i = 0; i < 600; i++) a.push({ stream: 'm1/temp', ts: T0 + i * 1000, value: 20 + (i % 3) });
  assert.equal(a.stats().state!.journal, null);
  await a.stop();
  const db = new Database(join(dir, 'data', 'outbox.db'), { readonly: true });
  assert.equal(db.prepare('SELECT count(*) FROM journal_blocks').pluck().get(), 0);
  assert.ok((db.prepare('SELECT count(*) FROM state').pluck().get() as number) >= 3);
  db.close();
  // No journal to replay: only the state saved at the stop can bring the baseline back.
  const seen: Emission[] = [];
  const b = gateway(dir, '[]', (e) => seen.push(e), off);
  await b.start();
  for (let i = 600; i < 660; i++) b.push({ stream: 'm1/temp', ts: T0 + i * 1000, value: i === 635 ? 90 : 20 + (i % 3) });
  await b.stop();
  assert.ok(seen.some((e) => e.kind === 'alert' && e.alert.state === 'raised'), 'the spike raised an alert right after the restart');
});

test('a periodic checkpoint waits until checkpoint_min_entries were journaled after the last one; the stats say how many a restart would replay', async (t) => {
  const { dir, cleanup } = tempDir('edgewise-state-');
  t.after(cleanup);
  // Only setInterval is mocked: the gateway's checkpoint timer runs when the test says; a sliced
  // checkpoint's own turns of the event loop are real.
  t.mock.timers.enable({ apis: ['setInterval'] });
  const g = gateway(dir, '[]', undefined, 'state: { checkpoint_interval: 1s, checkpoint_min_entries: 100 }\n');
  await g.start();
  const state = () => g.stats().state!;
  assert.equal(state().checkpoints, 1, 'the one at start');
  for (let i = 0; i < 60; i++) g.push({ stream: 'm1/temp', ts: T0 + i * 1000, value: 20 });
  assert.equal(state().journal!.sinceCheckpoint, 60);
  t.mock.timers.tick(1000); // 60 < 100: no checkpoint
  for (let i = 60; i < 120; i++) g.push({ stream: 'm1/temp', ts: T0 + i * 1000, value: 20 });
  t.mock.timers.tick(1000); // 120: a checkpoint of everything so far
  await waitFor(() => state().journal!.sinceCheckpoint === 0, "a checkpoint at position 120");
  assert.equal(state().checkpoints, 2, 'one periodic checkpoint, after the 120th entry');
  await g.stop();
});
