/**
 * The forwarder against a third real broker: RabbitMQ 3.10's MQTT plugin (Debian package
 * `rabbitmq-server`; MQTT 3.1.1 only), started by the test in a temp dir. An outage (RabbitMQ
 * stopped and started again) loses nothing, one by one and in gzip batches; retained status
 * behaves as docs/upstream.md says. Needs rabbitmq-server: `npm run test:system`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import mqtt from 'mqtt';
import { RabbitMq } from '../helpers/rabbitmq.js';
import { freePort } from '../runtime/helpers.js';
import { aggregate, alert, checkSequences, expandBatches, forwarderTo, tempDir, waitFor, type Received } from './helpers.js';

describe('upstream forwarder against RabbitMQ (MQTT plugin, 3.1.1)', () => {
  it('an outage (RabbitMQ stopped and restarted) loses nothing, one by one and batched; retained status', { timeout: 240_000 }, async () => {
    const tmp = tempDir('edgewise-rabbit-');
    const rabbit = new RabbitMq(tmp.dir, await freePort(), await freePort(), await freePort());
    await rabbit.start();
    // A persistent QoS 1 consumer: RabbitMQ keeps its messages in a durable queue across the restart.
    const received: Received[] = [];
    const consumer = mqtt.connect(rabbit.url, { protocolVersion: 4, clientId: 'rabbit-consumer', clean: false, reconnectPeriod: 200 });
    consumer.on('message', (topic, payload, packet) => received.push({ topic, payload: Buffer.from(payload), retain: packet.retain }));
    await new Promise<void>((resolve, reject) => consumer.once('connect', () => consumer.subscribe('edgewise/v1/#', { qos: 1 }, (err) => (err ? reject(err) : resolve()))));
    const plain = forwarderTo(rabbit.url, { protocol_version: 4 }, 'gw-plain');
    const batched = forwarderTo(rabbit.url, { protocol_version: 4, batch: { max_records: 50, max_delay: '50ms', compression: 'gzip' } }, 'gw-batch');
    const gws = [plain, batched];
    try {
      for (const g of gws) await g.fwd.start();
      await waitFor(() => gws.every((g) => g.fwd.state() === 'online'), 'online');
      let produced = 0;
      const produce = async (n: number) => {
        for (let i = 0; i < n; i++, produced++) {
          for (const g of gws) g.outbox.put(produced % 40 === 0 ? alert(`r${produced % 3}/p`, produced) : aggregate(`r${produced % 4}/p`, produced));
          if (i % 100 === 0) await sleep(2);
        }
        for (const g of gws) g.outbox.flush();
      };
      await produce(1500);
      await rabbit.stop();
      await waitFor(() => gws.every((g) => g.fwd.state() !== 'online'), 'offline');
      await produce(1500);
      assert.ok(gws.every((g) => g.outbox.stats().depth.messages > 0), 'buffered during the outage');
      await rabbit.start();
      await produce(1000);
      await waitFor(() => gws.every((g) => g.outbox.stats().depth.messages === 0 && g.fwd.stats().inFlight === 0), 'drained', 90_000);
      const data = () => expandBatches(received.filter((r) => !/\/(status|stats)$/.test(r.topic)));
      const of = (gw: string) => data().filter((m) => m.topic.startsWith(`edgewise/v1/${gw}/`));
      await waitFor(() => checkSequences(of('gw-plain')).unique === produced && checkSequences(of('gw-batch')).unique === produced, 'every record at the consumer', 60_000).catch(() => {});
      for (const gw of ['gw-plain', 'gw-batch']) {
        const check = checkSequences(of(gw));
        assert.deepEqual(check.problems, [], gw);
        assert.equal(check.unique, produced, `${gw}: every record arrived`);
      }
      assert.ok(received.some((r) => r.topic === 'edgewise/v1/gw-batch/batch/gzip'), 'batches went as batches');
      assert.ok(gws.every((g) => g.fwd.stats().reconnects >= 1));

      // Retained status: seen by a subscription of its exact topic; through a wildcard filter, as observed here.
      const late = await mqtt.connectAsync(rabbit.url, { protocolVersion: 4, clientId: 'late-subscriber', reconnectPeriod: 0 });
      try {
        const seen: string[] = [];
        let probe = false;
        late.on('message', (topic, payload, packet) => {
          if (topic === 'edgewise/v1/probe/status') probe = true;
          else if (packet.retain) seen.push(`${topic} ${JSON.parse(payload.toString()).state}`);
        });
        await late.subscribeAsync('edgewise/v1/gw-plain/status', { qos: 1 });
        await waitFor(() => seen.length > 0, 'the retained status on its exact topic', 10_000);
        assert.deepEqual(seen, ['edgewise/v1/gw-plain/status online']);
        await late.subscribeAsync('edgewise/v1/+/status', { qos: 1 });
        // Retained messages for a new subscription come before anything published after its SUBACK.
        await late.publishAsync('edgewise/v1/probe/status', '{}', { qos: 1 });
        await waitFor(() => probe, 'the probe message', 10_000);
        assert.deepEqual(seen, ['edgewise/v1/gw-plain/status online'], 'RabbitMQ 3.10 sends no retained message through a wildcard filter (docs/upstream.md)');
      } finally {
        late.end(true);
      }
    } finally {
      for (const g of gws) await g.close();
      consumer.end(true);
      await rabbit.stop();
      tmp.cleanup();
    }
  });
});
