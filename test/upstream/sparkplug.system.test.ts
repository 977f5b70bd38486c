/**
 * `upstream.format: sparkplug_b` end to end with real parts: a QoS 1 publisher → `edgewise run` (a
 * child process; embedded broker as input; raw readings, aggregates and alerts upstream) →
 * Mosquitto (started here) → a Sparkplug host: a persistent QoS 1 subscriber that decodes what
 * arrives. Mosquitto is stopped and restarted (an outage), the host asks for a rebirth, the gateway
 * is SIGKILLed (its NDEATH arrives as the Last Will) and started again.
 * Needs the `mosquitto` binary: run with `npm run test:system`.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import mqtt from 'mqtt';
import { encodeSparkplugPayload } from '../../src/upstream/sparkplug/encode.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { freePort, publishAll, startRuntime, waitFor } from '../runtime/helpers.js';
import { tempDir } from './helpers.js';
import { bdSeqOf, checkSparkplugOrder, SparkplugHost, type SpMessage } from './sparkplug-helpers.js';

const PIPELINE = `
name: sp
input:
  streams: ["*/temp"]
steps:
  - output: raw
  - detect: { detector: threshold, above: 25 }
  - window: { type: tumbling, size: 1s, aggregates: [count, mean, max] }
  - output: upstream
`;

describe('sparkplug B: edgewise run → Mosquitto → a decoding host', () => {
  it('NBIRTH before DBIRTH before DDATA, seq 0–255 in order with wrap, is_historical after an outage, rebirth on NCMD, NDEATH will with the birth’s bdSeq after SIGKILL, bdSeq+1 after the restart', { timeout: 180_000 }, async () => {
    const tmp = tempDir('edgewise-sparkplug-');
    // QoS 0 births queued for the host's persistent session while it reconnects after the outage
    const mosq = new Mosquitto(tmp.dir, await freePort(), ['queue_qos0_messages true']);
    await mosq.start();
    const inputPort = await freePort();
    const input = `mqtt://127.0.0.1:${inputPort}`;
    writeFileSync(join(tmp.dir, 'sp.yaml'), PIPELINE);
    const cfg = join(tmp.dir, 'edgewise.yaml');
    writeFileSync(
      cfg,
      [
        'gateway: { id: van-17, data_dir: data }',
        'log: { level: info }',
        `inputs:\n  - { name: local, type: mqtt, broker: { port: ${inputPort} } }`,
        'pipelines: [sp.yaml]',
        'outbox: { commit_interval: 10ms }',
        'stats_upstream: 0s',
        `upstream: { url: "${mosq.url}", format: sparkplug_b, sparkplug: { group_id: plant }, keepalive: 2s, connect_timeout: 2s, reconnect_min: 100ms, reconnect_max: 1s }`,
        '',
      ].join('\n'),
    );

    const got: SpMessage[] = [];
    const decoder = new SparkplugHost();
    const host = mqtt.connect(mosq.url, { clientId: 'sparkplug-host', clean: false, reconnectPeriod: 100 });
    host.on('message', (topic, payload, packet) => {
      const m = decoder.decode(topic, payload, packet.dup);
      if (m && m.type !== 'NCMD') got.push(m);
    });
    await new Promise<void>((resolve, reject) => host.once('connect', () => host.subscribe('spBv1.0/plant/#', { qos: 1 }, (err) => (err ? reject(err) : resolve()))));

    let rt = await startRuntime(cfg);
    const t0 = Date.now() - 3_600_000;
    let n = 0;
    const publish = (count: number) => {
      const msgs = [];
      for (let i = 0; i < count; i++, n++) msgs.push({ topic: `sensors/m${n % 3}/temp`, payload: JSON.stringify({ value: n % 97 === 50 ? 30 : 20 + (n % 3), ts: t0 + n * 100 }) });
      return publishAll(input, msgs);
    };
    const raw = () => got.filter((m) => m.type === 'DDATA' && m.metrics[0]!.name === 'temp');
    const rawIds = () => new Set(raw().map((m) => m.metrics[0]!.props.id as string));
    const of = (type: string) => got.filter((m) => m.type === type);
    try {
      await publish(300);
      await waitFor(() => rawIds().size === 300, '300 raw readings as DDATA', 30_000);

      // the outage: readings buffered in the outbox while Mosquitto is down (a connection lost
      // earlier, say to a keepalive on a loaded machine, logged the same line: count this one)
      const losses = () => rt.output().split('buffering in the outbox').length - 1;
      const lostBefore = losses();
      await mosq.stop();
      await waitFor(() => losses() > lostBefore, 'the gateway to see the outage');
      const outageFrom = n;
      await publish(150);
      await mosq.start();
      await waitFor(() => rawIds().size === 450, '450 raw readings after the outage', 60_000);
      const drained = raw().filter((m) => (m.metrics[0]!.timestamp as number) >= t0 + outageFrom * 100);
      assert.ok(drained.length >= 150);
      assert.deepEqual(drained.filter((m) => !m.metrics.every((x) => x.historical)).map((m) => m.metrics[0]!.props.id), [], 'every record drained after the outage is historical');
      await publish(30);
      await waitFor(() => rawIds().size === 480, '480 raw readings', 30_000);
      assert.ok(raw().slice(-30).every((m) => m.metrics.every((x) => !x.historical)), 'fresh records after the outage are live');

      // rebirth on request
      const births = of('NBIRTH').length;
      const bd = bdSeqOf(of('NBIRTH').at(-1)!)!;
      await host.publishAsync('spBv1.0/plant/NCMD/van-17', Buffer.from(encodeSparkplugPayload({ timestamp: Date.now(), metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }] })), { qos: 1 });
      await waitFor(() => of('NBIRTH').length === births + 1 && got.slice(got.lastIndexOf(of('NBIRTH').at(-1)!)).filter((m) => m.type === 'DBIRTH').length === 3, 'NBIRTH and the DBIRTHs of m0, m1, m2');
      assert.equal(bdSeqOf(of('NBIRTH').at(-1)!), bd, 'a rebirth keeps the bdSeq');

      // SIGKILL: the broker sends the Last Will, an NDEATH with the session's bdSeq
      rt.child.kill('SIGKILL');
      await rt.exited;
      await waitFor(() => of('NDEATH').some((m) => bdSeqOf(m) === bd), `NDEATH with bdSeq ${bd}`);
      rt = await startRuntime(cfg);
      await waitFor(() => of('NBIRTH').length === births + 2, 'NBIRTH after the restart');
      assert.equal(bdSeqOf(of('NBIRTH').at(-1)!), (bd + 1) & 0xff, 'the next session’s bdSeq follows the one persisted');

      if (process.env.SPARKPLUG_TEST_LOG) console.log(got.map((m) => `${m.type}${m.device ? ' ' + m.device : ''} seq=${m.seq} ${m.metrics.map((x) => x.name + (x.historical ? '(h)' : '') + (x.name === 'bdSeq' ? '=' + x.value : '')).join(',')}`).join('\n'));
      // the whole run obeys the order rules: NBIRTH seq 0, seq +1 mod 256, DBIRTH before DDATA with every metric declared
      assert.deepEqual(checkSparkplugOrder(got), []);
      assert.equal(got[0]!.type, 'NBIRTH');
      assert.ok(got.some((m) => m.seq === 255), 'seq reached 255 and wrapped');
      assert.ok(of('DDATA').some((m) => m.metrics[0]!.name === 'aggregate/temp/count') && of('DDATA').some((m) => m.metrics[0]!.name === 'alert/temp/state'), 'aggregates and alerts arrived as metrics');
    } finally {
      rt.child.kill('SIGKILL');
      host.end(true);
      await mosq.stop();
      tmp.cleanup();
    }
  });
});
