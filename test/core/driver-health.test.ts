import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DriverHealthState } from '../../src/core/driver.js';
import { gpioPlugin } from '../../drivers/gpio/plugin.js';
import { mqttPlugin } from '../../drivers/mqtt/plugin.js';
import { serialPlugin } from '../../drivers/serial/plugin.js';
import { SimulatedGpio, SIMULATED_GPIO_SERVICE } from '../../drivers/gpio/index.js';
import { gpioConfigSchema, mqttConfigSchema, serialConfigSchema } from '../helpers/schemas.js';
import { makeCtx, makeDeps } from '../drivers/helpers.js';

test('driver health: the time moves only when the state or its detail changes, by the injected clock', () => {
  let now = 1_000;
  const h = new DriverHealthState(() => now);
  assert.deepEqual(h.health(), { state: 'stopped', detail: undefined, since: 1_000 });
  now = 2_000;
  h.set('starting');
  assert.deepEqual(h.health(), { state: 'starting', detail: undefined, since: 2_000 });
  now = 3_000;
  h.set('degraded', 'reconnecting');
  now = 4_000;
  h.set('degraded', 'reconnecting'); // the same again: still degraded since 3 s
  assert.deepEqual(h.health(), { state: 'degraded', detail: 'reconnecting', since: 3_000 });
  h.set('degraded', 'broker refused'); // new detail: a new since
  assert.equal(h.health().since, 4_000);
  assert.equal(h.current, 'degraded');
});

test('every driver keeps its health on the clock it is given, not the wall clock', async () => {
  const clock = () => 42_000; // far from Date.now()
  const sim = new SimulatedGpio();
  const gpio = gpioPlugin.create('io', gpioConfigSchema.parse({ backend: 'simulated', inputs: [{ pin: 5, name: 'door' }] }), makeDeps(new Map([[SIMULATED_GPIO_SERVICE, sim]]), clock));
  const serial = serialPlugin.create('s', serialConfigSchema.parse({ path: '/nonexistent/tty-edgewise-test', format: 'json', reconnect_min: '10s' }), makeDeps(undefined, clock));
  const mqtt = mqttPlugin.create('m', mqttConfigSchema.parse({ broker: { port: 0 } }), makeDeps(undefined, clock));
  for (const d of [gpio, serial, mqtt]) assert.equal(d.health().since, 42_000, `${d.kind} before start`);
  try {
    for (const d of [gpio, serial, mqtt]) await d.start(makeCtx(clock));
    assert.deepEqual([gpio, serial, mqtt].map((d) => [d.kind, d.health().since]), [['gpio', 42_000], ['serial', 42_000], ['mqtt', 42_000]]);
    assert.equal(gpio.health().state, 'up');
    assert.equal(mqtt.health().state, 'up');
  } finally {
    for (const d of [gpio, serial, mqtt]) await d.stop();
  }
});
