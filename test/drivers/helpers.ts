import { spawn, type ChildProcess } from 'node:child_process';
import { DropCounter } from '../../src/core/drops.js';
import type { DriverContext, DriverDeps } from '../../src/core/driver.js';
import type { Reading } from '../../src/core/reading.js';
import { silentLogger } from '../../src/core/log.js';

export interface TestCtx extends DriverContext {
  readings: Reading[];
  drops: DropCounter;
}

export function makeCtx(now?: () => number): TestCtx {
  const readings: Reading[] = [];
  return {
    readings,
    emit: (r) => void readings.push(r),
    drops: new DropCounter(10),
    log: silentLogger(),
    now: now ?? (() => Date.now()),
  };
}

export function makeDeps(services = new Map<string, unknown>(), now?: () => number): DriverDeps {
  return { log: silentLogger(), dataDir: '/tmp', services, now };
}

import { waitFor } from '../runtime/helpers.js';
import mqtt from 'mqtt';
import { startEmbeddedBroker, type EmbeddedBroker, type EmbeddedBrokerOptions } from '../../drivers/mqtt/index.js';

export { waitFor };

/**
 * An embedded broker on a free port with a device connected as `pump-1`; `clients` (the device
 * first) are ended and the broker closed after the test. Push a test's own clients to `clients`.
 */
export async function brokerWithDevice(t: { after: (fn: () => Promise<void>) => void }, opts: EmbeddedBrokerOptions = {}): Promise<{ b: EmbeddedBroker; dev: mqtt.MqttClient; clients: mqtt.MqttClient[] }> {
  const b = await startEmbeddedBroker({ port: 0, onPublish: () => {}, ...opts });
  const dev = await mqtt.connectAsync(b.url, { clientId: 'pump-1' });
  const clients: mqtt.MqttClient[] = [dev];
  t.after(async () => {
    for (const c of clients) c.end(true);
    await b.close();
  });
  return { b, dev, clients };
}

export function byStream(readings: Reading[], stream: string): Reading[] {
  return readings.filter((r) => r.stream === stream);
}

/** A pty pair made by socat: a driver opens `a`, the test writes to `b`. The caller kills the child. */
export async function socatPty(a: string, b: string): Promise<ChildProcess> {
  const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d) => (log += d));
  try {
    await waitFor(() => /starting data transfer loop/.test(log), () => `socat to start (${log})`);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return child;
}

/** One counter a driver reports; a name it does not report fails the test, so a renamed counter is not read as 0. */
export function counter(counters: Record<string, number>, name: string): number {
  const v = counters[name];
  if (v === undefined) throw new Error(`no counter ${name} (reported: ${Object.keys(counters).join(', ')})`);
  return v;
}
