import { test, after } from 'node:test';
import { mqttPlugin } from '../../drivers/mqtt/plugin.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { hashPassword, type MqttConfig } from '../../drivers/mqtt/index.js';
import { mqttConfigSchema } from '../helpers/schemas.js';
import type { Driver } from '../../src/core/driver.js';
import { makeCtx, makeDeps, waitFor } from './helpers.js';

const drivers: Driver[] = [];
after(async () => {
  for (const d of drivers) await d.stop();
});

function mosquittoPub(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('mosquitto_pub', args, { timeout: 15_000 }, (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }));
  });
}

test('mosquitto_pub publishes to the embedded broker: auth accepted and refused, payload forms', async () => {
  const hash = await hashPassword('pump-pass', { N: 1024 });
  const cfg = mqttConfigSchema.parse({
    broker: { port: 0, users: [{ username: 'pump-1', password_hash: hash, publish: ['sensors/pump-1/#'] }] },
  }) as MqttConfig;
  const d = mqttPlugin.create('local', cfg, makeDeps());
  drivers.push(d);
  const ctx = makeCtx();
  await d.start(ctx);
  const port = String((d as unknown as { embeddedBroker: { port: number } }).embeddedBroker.port);
  const base = ['-h', '127.0.0.1', '-p', port, '-u', 'pump-1', '-P', 'pump-pass', '-q', '1'];
  assert.equal((await mosquittoPub([...base, '-t', 'sensors/pump-1/temp', '-m', '21.5'])).code, 0);
  assert.equal((await mosquittoPub([...base, '-t', 'sensors/pump-1/vib', '-m', '{"value": 0.7, "ts": 1700000000000}'])).code, 0);
  assert.equal((await mosquittoPub([...base, '-t', 'sensors/pump-1/env', '-m', '{"t": 30, "h": 55}'])).code, 0);
  assert.equal((await mosquittoPub([...base, '-t', 'sensors/pump-1/temp', '-m', 'garbage'])).code, 0);
  const refused = await mosquittoPub(['-h', '127.0.0.1', '-p', port, '-u', 'pump-1', '-P', 'wrong', '-t', 'sensors/pump-1/temp', '-m', '1']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /not authori[sz]ed|bad user name or password|Connection Refused/i);
  await waitFor(() => ctx.readings.length === 4 && ctx.drops.count('not_a_number') === 1, 'readings from mosquitto_pub');
  assert.deepEqual(ctx.readings.map((r) => [r.stream, r.value]).sort(), [
    ['pump-1/env_h', 55],
    ['pump-1/env_t', 30],
    ['pump-1/temp', 21.5],
    ['pump-1/vib', 0.7],
  ]);
  assert.equal(d.counters().broker_auth_refused, 1);
});
