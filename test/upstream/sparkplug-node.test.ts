/**
 * The gateway as a Sparkplug B edge node, forwarder in-process against a real aedes broker on
 * loopback: what the node publishes is recorded where the broker accepts it, in order, and decoded.
 * The Last Will after a SIGKILL, against Mosquitto and `edgewise run`: sparkplug.system.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import mqtt from 'mqtt';
import { silentLogger } from '../../src/core/log.js';
import { Outbox } from '../../src/outbox/index.js';
import { UpstreamForwarder } from '../../src/upstream/index.js';
import { encodeSparkplugPayload } from '../../src/upstream/sparkplug/encode.js';
import { aggregate, alert, outboxConfig, tempDir, TestBroker, upstreamConfig, waitFor } from './helpers.js';
import { bdSeqOf, checkSparkplugOrder, decodeSparkplug, SparkplugHost, type SpMessage } from './sparkplug-helpers.js';

function node(broker: TestBroker): SpMessage[] {
  const host = new SparkplugHost();
  return broker.received.map((r) => host.decode(r.topic, r.payload)).filter((m): m is SpMessage => m !== undefined && m.type !== 'NCMD');
}

const ddata = (msgs: SpMessage[]) => msgs.filter((m) => m.type === 'DDATA');
const idOf = (m: SpMessage) => m.metrics[0]!.props.id as string;

function open(dir: string, url: string, sparkplug: Record<string, unknown> = {}) {
  const outbox = Outbox.open({ config: outboxConfig(), dataDir: dir, gatewayId: 'van/17', log: silentLogger() });
  const fwd = new UpstreamForwarder({
    config: upstreamConfig(url, { format: 'sparkplug_b', sparkplug: { group_id: 'fleet', device_idle: 0, ...sparkplug } }),
    outbox,
    gatewayId: 'van/17',
    log: silentLogger(),
  });
  return { outbox, fwd };
}

/** An aedes broker and a Sparkplug node (outbox + forwarder) in a temp dir, all stopped after the test. */
async function nodeOnBroker(t: TestContext, sparkplug: Record<string, unknown> = {}) {
  const broker = new TestBroker();
  await broker.start();
  const tmp = tempDir();
  const n = {
    broker,
    ...open(tmp.dir, broker.url, sparkplug),
    /** Stop the node cleanly and start it again on the same outbox file. */
    async restart() {
      await n.fwd.stop();
      n.outbox.close();
      Object.assign(n, open(tmp.dir, broker.url, sparkplug));
      await n.fwd.start();
    },
  };
  t.after(async () => {
    await n.fwd.stop();
    n.outbox.close();
    await broker.stop();
    tmp.cleanup();
  });
  return n;
}

describe('sparkplug B edge node (aedes)', () => {
  it('NBIRTH, then DBIRTH before each device’s DDATA, seq 0–255 wrapping, every record once with its dedupe id; rebirth on NCMD; clean stop: DDEATHs and NDEATH with the birth’s bdSeq', async (t) => {
    const n = await nodeOnBroker(t);
    const { broker, outbox, fwd } = n;
    await fwd.start();
    await waitFor(() => fwd.state() === 'online', 'online');
    for (let i = 0; i < 300; i++) outbox.put(i % 50 === 7 ? alert(`pump-${i % 3}/temp`, i) : aggregate(`pump-${i % 3}/vib`, i));
    outbox.flush();
    await waitFor(() => outbox.depth() === 0 && ddata(node(broker)).length === 300, '300 DDATA');
    let msgs = node(broker);
    assert.equal(msgs[0]!.type, 'NBIRTH');
    assert.equal(msgs[0]!.group, 'fleet');
    assert.equal(msgs[0]!.node, 'van_17', 'the edge node id defaults to the gateway id as one topic level');
    assert.deepEqual(msgs[0]!.metrics.map((m) => [m.name, m.value]), [['bdSeq', 0], ['Node Control/Rebirth', false]]);
    assert.deepEqual(checkSparkplugOrder(msgs), []);
    assert.ok(msgs.some((m) => m.seq === 255) && msgs.filter((m) => m.seq === 0).length >= 2, 'seq wrapped past 255');
    assert.equal(new Set(ddata(msgs).map(idOf)).size, 300, 'each record once, with its id');
    assert.ok(ddata(msgs).every((m) => m.metrics.every((x) => !x.historical)), 'nothing was buffered: nothing historical');
    const wire = broker.received.filter((r) => r.topic.includes('/DDATA/')).map((r) => decodeSparkplug(r.topic, r.payload)!);
    assert.ok(wire.every((m) => m.metrics.every((x) => x.name === '' && x.alias! > 0)), 'DDATA names metrics by alias only');
    // an alert appearing on a device already born: a new DBIRTH declares its metrics first
    const dbirths = msgs.filter((m) => m.type === 'DBIRTH' && m.device === 'pump-1');
    assert.ok(dbirths.length >= 2 && dbirths.at(-1)!.metrics.some((x) => x.name === 'alert/temp/state'));

    // rebirth: a host asks with NCMD Node Control/Rebirth
    const host = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    const before = msgs.length;
    await host.publishAsync('spBv1.0/fleet/NCMD/van_17', Buffer.from(encodeSparkplugPayload({ timestamp: Date.now(), metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }] })), { qos: 1 });
    await waitFor(() => node(broker).slice(before).filter((m) => m.type === 'DBIRTH').length === 3, 'NBIRTH and 3 DBIRTHs after the rebirth request');
    await host.endAsync();
    msgs = node(broker);
    const reb = msgs.slice(before);
    assert.equal(reb[0]!.type, 'NBIRTH');
    assert.equal(reb[0]!.seq, 0);
    assert.equal(bdSeqOf(reb[0]!), 0, 'a rebirth keeps the session’s bdSeq');
    assert.deepEqual(reb.slice(1).map((m) => m.device).sort(), ['pump-0', 'pump-1', 'pump-2']);
    outbox.put(aggregate('pump-0/vib', 1000));
    outbox.flush();
    await waitFor(() => ddata(node(broker)).length === 301, 'DDATA after the rebirth');
    assert.deepEqual(checkSparkplugOrder(node(broker)), []);

    await fwd.stop();
    msgs = node(broker);
    const tail = msgs.slice(-4);
    assert.deepEqual(tail.map((m) => m.type), ['DDEATH', 'DDEATH', 'DDEATH', 'NDEATH']);
    assert.equal(bdSeqOf(tail[3]!), 0);
  });

  it('after an outage the drained records are is_historical and the new session has a new bdSeq; bdSeq survives a restart', async (t) => {
    const n = await nodeOnBroker(t);
    const { broker, outbox, fwd } = n;
    await fwd.start();
    await waitFor(() => fwd.state() === 'online', 'online');
    outbox.put(aggregate('a/x', 0));
    outbox.flush();
    await waitFor(() => ddata(node(broker)).length === 1, 'first DDATA');
    await broker.stop();
    await waitFor(() => fwd.state() !== 'online', 'offline');
    for (let i = 1; i <= 20; i++) outbox.put(aggregate(`a/x`, i));
    outbox.flush();
    broker.received.length = 0;
    await broker.start();
    await waitFor(() => fwd.state() === 'online' && outbox.depth() === 0, 'drained');
    outbox.put(aggregate('a/x', 21));
    outbox.flush();
    await waitFor(() => ddata(node(broker)).length === 21, '21 DDATA');
    const msgs = node(broker);
    assert.deepEqual(checkSparkplugOrder(msgs), []);
    const births = msgs.filter((m) => m.type === 'NBIRTH');
    assert.equal(births.length, 1);
    const session2 = bdSeqOf(births[0]!)!;
    assert.ok(session2 >= 1, `a new connection has a new bdSeq (got ${session2})`);
    const data = ddata(msgs);
    assert.ok(data.slice(0, 20).every((m) => m.metrics.every((x) => x.historical)), 'drained after the outage: is_historical');
    assert.ok(data[20]!.metrics.every((x) => !x.historical), 'fresh after the reconnect: live');

    broker.received.length = 0;
    await n.restart();
    await waitFor(() => node(broker).some((m) => m.type === 'NBIRTH'), 'NBIRTH after the restart');
    assert.equal(bdSeqOf(node(broker).find((m) => m.type === 'NBIRTH')!), (session2 + 1) & 0xff, 'bdSeq is kept in the outbox file across restarts');
  });

  it('with aliases: false every DDATA names its metrics', async (t) => {
    const n = await nodeOnBroker(t, { aliases: false });
    const { broker, outbox, fwd } = n;
    await fwd.start();
    outbox.put(aggregate('cab-1/t', 0));
    outbox.flush();
    await waitFor(() => broker.received.some((r) => r.topic.includes('/DDATA/')), 'DDATA');
    const wire = broker.received.filter((r) => r.topic.includes('BIRTH') || r.topic.includes('/DDATA/')).map((r) => decodeSparkplug(r.topic, r.payload)!);
    assert.deepEqual(wire.find((m) => m.type === 'DDATA')!.metrics.map((x) => [x.name, x.alias]), [['aggregate/t/count', undefined], ['aggregate/t/mean', undefined], ['aggregate/t/max', undefined]]);
    assert.ok(wire.every((m) => m.metrics.every((x) => x.alias === undefined)));
  });

  it('a device that sent nothing for device_idle gets a DDEATH, and a DBIRTH again with its next record', async (t) => {
    const n = await nodeOnBroker(t, { device_idle: 200 });
    const { broker, outbox, fwd } = n;
    await fwd.start();
    await waitFor(() => fwd.state() === 'online', 'online');
    outbox.put(aggregate('cab-1/t', 0));
    outbox.flush();
    await waitFor(() => node(broker).some((m) => m.type === 'DDEATH' && m.device === 'cab-1'), 'DDEATH of the idle device');
    outbox.put(aggregate('cab-1/t', 1));
    outbox.flush();
    await waitFor(() => ddata(node(broker)).length === 2, 'second DDATA');
    const msgs = node(broker);
    assert.deepEqual(msgs.map((m) => m.type), ['NBIRTH', 'DBIRTH', 'DDATA', 'DDEATH', 'DBIRTH', 'DDATA']);
    assert.deepEqual(checkSparkplugOrder(msgs), []);
  });
});
