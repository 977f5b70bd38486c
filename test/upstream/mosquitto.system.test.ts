/**
 * The outage test against a real Mosquitto (Debian package `mosquitto`), started by the test with
 * its own config on a free loopback port. Needs the `mosquitto` binary: run with `npm run test:system`.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import mqtt from 'mqtt';
import { silentLogger } from '../../src/core/log.js';
import { Outbox } from '../../src/outbox/index.js';
import { UpstreamForwarder } from '../../src/upstream/index.js';
import { aggregate, alert, checkSequences, outboxConfig, sleep, tempDir, upstreamConfig, waitFor, type Received } from './helpers.js';

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

class Mosquitto {
  proc: ChildProcess | null = null;
  log = '';
  constructor(
    readonly dir: string,
    readonly port: number,
  ) {
    // max_queued_messages 0 / max_inflight_messages 0: unlimited, so Mosquitto does not drop QoS 1
    // messages queued for the collector (its default of 1000 would). Persistence is on (in the temp
    // dir) so that the collector's session and its queued messages survive the broker restart.
    // Started as root (as in CI), Mosquitto drops to the `mosquitto` user and then cannot write
    // its persistence file into our temp dir: sessions would be lost on restart without a word
    // (only "Error saving in-memory database" in its log). Let any user write there.
    chmodSync(dir, 0o777);
    writeFileSync(
      path.join(dir, 'mosquitto.conf'),
      [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous true',
        'max_queued_messages 0',
        'max_inflight_messages 0',
        'persistence true',
        `persistence_location ${dir}/`,
        'log_dest stdout',
        '',
      ].join('\n'),
    );
  }
  async start(): Promise<void> {
    const p = spawn('mosquitto', ['-c', path.join(this.dir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout!.on('data', (d) => (this.log += d.toString()));
    p.stderr!.on('data', (d) => (this.log += d.toString()));
    this.proc = p;
    const t0 = Date.now();
    while (!(await portOpen(this.port))) {
      if (p.exitCode !== null || Date.now() - t0 > 15_000) throw new Error(`mosquitto did not start:\n${this.log}`);
      await sleep(50);
    }
  }
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((r) => {
      p.once('exit', () => r());
      p.kill('SIGTERM');
    });
  }
}

describe('upstream forwarder against Mosquitto', () => {
  it('an outage (Mosquitto stopped and restarted) loses nothing: every message arrives, seq gap-free, duplicates share ids', { timeout: 120_000 }, async () => {
    const tmp = tempDir('edgewise-mosq-');
    const port = await freePort();
    const mosq = new Mosquitto(tmp.dir, port);
    await mosq.start();
    const url = `mqtt://127.0.0.1:${port}`;
    const received: Received[] = [];
    const collector = mqtt.connect(url, { clientId: 'collector', clean: false, reconnectPeriod: 100 });
    collector.on('message', (topic, payload, packet) => received.push({ topic, payload: Buffer.from(payload), retain: packet.retain }));
    await new Promise<void>((resolve, reject) => {
      collector.once('connect', () => collector.subscribe('edgewise/v1/#', { qos: 1 }, (err) => (err ? reject(err) : resolve())));
    });
    const outbox = Outbox.open({ config: outboxConfig(), dataDir: tmp.dir, gatewayId: 'gw-m', log: silentLogger() });
    const fwd = new UpstreamForwarder({ config: upstreamConfig(url, { protocol_version: 5 }), outbox, gatewayId: 'gw-m', log: silentLogger() });
    try {
      await fwd.start();
      await waitFor(() => fwd.state() === 'online', 'online');
      let produced = 0;
      const produce = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const k = produced++;
          outbox.put(k % 40 === 0 ? alert(`m${k % 3}/p`, k) : aggregate(`m${k % 4}/p`, k));
          if (k % 100 === 0) await sleep(2);
        }
      };
      await produce(2000);
      await mosq.stop();
      await waitFor(() => fwd.state() !== 'online', 'offline');
      await produce(3000);
      outbox.flush();
      assert.ok(outbox.stats().depth.messages > 0);
      await mosq.start();
      await produce(1000);
      outbox.flush();
      await waitFor(() => outbox.stats().depth.messages === 0, 'drained', 60_000);
      const msgs = () => received.filter((r) => !r.topic.endsWith('/status'));
      await waitFor(() => checkSequences(msgs()).unique === produced, `all ${produced} messages at the collector`, 60_000).catch(() => {});
      const check = checkSequences(msgs());
      assert.deepEqual(check.problems, []);
      assert.equal(check.unique, produced);
      assert.ok(fwd.stats().reconnects >= 1);
    } finally {
      await fwd.stop();
      outbox.close();
      collector.end(true);
      await mosq.stop();
      tmp.cleanup();
    }
  });
});
