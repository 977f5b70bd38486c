import { test, after } from 'node:test';
import { gpioPlugin } from '../../drivers/gpio/plugin.js';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedGpio, SIMULATED_GPIO_SERVICE, resolveChipBase, type GpioConfig } from '../../drivers/gpio/index.js';
import { gpioConfigSchema } from '../helpers/schemas.js';
import type { AlertRecord } from '../../src/core/records.js';
import type { Driver } from '../../src/core/driver.js';
import { makeCtx, makeDeps, waitFor, byStream } from './helpers.js';

const tmp: string[] = [];
const drivers: Driver[] = [];
const timers: NodeJS.Timeout[] = [];
after(async () => {
  for (const d of drivers) await d.stop();
  for (const t of timers) clearInterval(t);
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});

/** A fake sysfs tree with GPIO chips; a tiny "kernel" creates gpioN directories when N is written to export. */
function fakeSysfs(chips: Array<{ label: string; base: number; ngpio: number }>): string {
  const root = mkdtempSync(join(tmpdir(), 'edgewise-sysfs-'));
  tmp.push(root);
  const g = join(root, 'class', 'gpio');
  mkdirSync(g, { recursive: true });
  for (const c of chips) {
    mkdirSync(join(g, `gpiochip${c.base}`));
    writeFileSync(join(g, `gpiochip${c.base}`, 'label'), `${c.label}\n`);
    writeFileSync(join(g, `gpiochip${c.base}`, 'base'), `${c.base}\n`);
    writeFileSync(join(g, `gpiochip${c.base}`, 'ngpio'), `${c.ngpio}\n`);
  }
  writeFileSync(join(g, 'export'), '');
  writeFileSync(join(g, 'unexport'), '');
  const kernel = setInterval(() => {
    const n = readFileSync(join(g, 'export'), 'utf8').trim();
    if (n && !existsSync(join(g, `gpio${n}`))) {
      mkdirSync(join(g, `gpio${n}`));
      for (const [f, v] of [['direction', 'in'], ['edge', 'none'], ['active_low', '0'], ['value', '0']]) writeFileSync(join(g, `gpio${n}`, f!), `${v}\n`);
    }
  }, 5);
  timers.push(kernel);
  return root;
}

const alert = (id: string, state: AlertRecord['state'], stream: string, severity: AlertRecord['severity'] = 'warning'): AlertRecord => ({
  id,
  state,
  stream,
  detector: 'zscore',
  severity,
  score: 0.9,
  start: 0,
  value: 1,
});

test('chip base: Pi 4 (512) and Pi 5 (571) kernels, explicit label, and errors', () => {
  const pi4 = fakeSysfs([
    { label: 'pinctrl-bcm2711', base: 512, ngpio: 58 },
    { label: 'raspberrypi-exp-gpio', base: 570, ngpio: 8 },
  ]);
  assert.equal(resolveChipBase(pi4).base, 512);
  assert.equal(resolveChipBase(pi4, 'raspberrypi-exp-gpio').base, 570);
  const pi5 = fakeSysfs([
    { label: 'gpio-brcmstb@107d508500', base: 512, ngpio: 32 },
    { label: 'pinctrl-rp1', base: 571, ngpio: 54 },
  ]);
  assert.equal(resolveChipBase(pi5).base, 571);
  const odd = fakeSysfs([
    { label: 'a', base: 0, ngpio: 8 },
    { label: 'b', base: 8, ngpio: 8 },
  ]);
  assert.throws(() => resolveChipBase(odd), /set chip_label or chip_base/);
  assert.throws(() => resolveChipBase(pi4, 'nope'), /no GPIO chip labelled "nope".*pinctrl-bcm2711 \(base 512\)/);
});

test('sysfs backend on a fake tree: export, direction, edge, value; outputs follow alerts; safe state and unexport on stop', async () => {
  const root = fakeSysfs([{ label: 'pinctrl-bcm2711', base: 512, ngpio: 58 }]);
  const g = join(root, 'class', 'gpio');
  const cfg = gpioConfigSchema.parse({
    backend: 'sysfs',
    sysfs_root: root,
    poll_interval: 5,
    device: 'cab-1',
    inputs: [{ pin: 17, name: 'door', debounce: 0 }],
    outputs: [{ pin: 27, name: 'buzzer', streams: ['pump-*/vibration_rms'], min_severity: 'warning' }],
  }) as GpioConfig;
  const d = gpioPlugin.create('io', cfg, makeDeps());
  drivers.push(d);
  const ctx = makeCtx();
  await d.start(ctx);
  assert.equal(d.health().state, 'up');
  assert.equal(readFileSync(join(g, 'gpio529', 'direction'), 'utf8'), 'in', 'BCM 17 + base 512 = 529');
  assert.equal(readFileSync(join(g, 'gpio529', 'edge'), 'utf8'), 'both');
  assert.equal(readFileSync(join(g, 'gpio539', 'direction'), 'utf8'), 'low', 'output starts at its safe state');
  assert.deepEqual(ctx.readings.map((r) => [r.stream, r.value]), [['cab-1/door', 0]]);

  writeFileSync(join(g, 'gpio529', 'value'), '1\n');
  await waitFor(() => ctx.readings.length === 2, 'door opens');
  assert.equal(ctx.readings[1]!.value, 1);

  d.onAlert!(alert('a1', 'raised', 'pump-1/vibration_rms'));
  assert.equal(readFileSync(join(g, 'gpio539', 'value'), 'utf8'), '1');
  d.onAlert!(alert('a2', 'raised', 'pump-2/vibration_rms', 'critical'));
  d.onAlert!(alert('a3', 'raised', 'pump-1/temp', 'critical')); // other stream: ignored
  d.onAlert!(alert('a1', 'cleared', 'pump-1/vibration_rms'));
  assert.equal(readFileSync(join(g, 'gpio539', 'value'), 'utf8'), '1', 'still on: a2 is active');
  d.onAlert!(alert('a2', 'cleared', 'pump-2/vibration_rms'));
  assert.equal(readFileSync(join(g, 'gpio539', 'value'), 'utf8'), '0');
  d.onAlert!(alert('a4', 'raised', 'pump-1/vibration_rms'));
  assert.equal(readFileSync(join(g, 'gpio539', 'value'), 'utf8'), '1');
  await d.stop();
  assert.equal(readFileSync(join(g, 'gpio539', 'value'), 'utf8'), '0', 'safe state on stop');
  assert.match(readFileSync(join(g, 'unexport'), 'utf8'), /^(529|539)$/);
});

test('backend sysfs without sysfs is a clear error; auto falls back to the simulated backend', async () => {
  const missing = join(tmpdir(), 'edgewise-no-such-sysfs');
  const cfg = gpioConfigSchema.parse({ backend: 'sysfs', sysfs_root: missing, inputs: [{ pin: 4, name: 'x' }] }) as GpioConfig;
  const d = gpioPlugin.create('io', cfg, makeDeps());
  await assert.rejects(d.start(makeCtx()), /gpio input "io": .*edgewise-no-such-sysfs\/class\/gpio does not exist.*backend: simulated/);
  assert.equal(d.health().state, 'down');
  const services = new Map<string, unknown>();
  const auto = gpioPlugin.create('io2', gpioConfigSchema.parse({ sysfs_root: missing, inputs: [{ pin: 4, name: 'x' }] }) as GpioConfig, makeDeps(services));
  drivers.push(auto);
  await auto.start(makeCtx());
  assert.equal(auto.health().state, 'up');
  assert.ok(services.get(SIMULATED_GPIO_SERVICE) instanceof SimulatedGpio, 'the simulated header is published for the firmware simulator');
});

test('simulated backend: debounced edges, active-low, edge filter, alert outputs readable by the simulator', async () => {
  const sim = new SimulatedGpio();
  const services = new Map<string, unknown>([[SIMULATED_GPIO_SERVICE, sim]]);
  const cfg = gpioConfigSchema.parse({
    backend: 'simulated',
    device: 'van-3',
    inputs: [
      { pin: 5, name: 'door', debounce: '30ms' },
      { pin: 6, name: 'ignition', active_low: true, debounce: 0, emit_initial: false },
      { pin: 13, name: 'limit', edge: 'rising', debounce: 0, emit_initial: false },
    ],
    outputs: [{ pin: 21, name: 'lamp', active_low: true, min_severity: 'critical' }],
  }) as GpioConfig;
  const d = gpioPlugin.create('io', cfg, makeDeps(services));
  drivers.push(d);
  const ctx = makeCtx();
  await d.start(ctx);
  assert.equal(sim.readOutput(21), 1, 'active-low lamp off = high');

  // a bouncing contact: many changes within the debounce time → one reading
  for (let i = 0; i < 9; i++) sim.setInput(5, (i % 2 === 0 ? 1 : 0) as 0 | 1);
  await waitFor(() => byStream(ctx.readings, 'van-3/door').length === 2, 'one debounced change');
  assert.deepEqual(byStream(ctx.readings, 'van-3/door').map((r) => r.value), [0, 1]);
  sim.setInput(5, 0);
  await waitFor(() => byStream(ctx.readings, 'van-3/door').length === 3, 'door closes');
  // Nothing more came of the bounce (a late second reading would show here as [0, 1, 1]).
  assert.deepEqual(byStream(ctx.readings, 'van-3/door').map((r) => r.value), [0, 1, 0]);

  sim.setInput(6, 1);
  sim.setInput(6, 0);
  assert.deepEqual(byStream(ctx.readings, 'van-3/ignition').map((r) => r.value), [0, 1], 'active-low: high = off');

  sim.pulse(13, 3);
  assert.deepEqual(byStream(ctx.readings, 'van-3/limit').map((r) => r.value), [1, 1, 1], 'rising edges only');

  d.onAlert!(alert('w', 'raised', 'van-3/speed', 'warning'));
  assert.equal(sim.readOutput(21), 1, 'warning is below min_severity');
  d.onAlert!(alert('c', 'raised', 'van-3/speed', 'critical'));
  assert.equal(sim.readOutput(21), 0, 'lamp on (active low)');
  d.onAlert!(alert('c', 'active', 'van-3/speed', 'critical'));
  d.onAlert!(alert('c', 'cleared', 'van-3/speed', 'critical'));
  assert.equal(sim.readOutput(21), 1);
  d.onAlert!(alert('c2', 'raised', 'x/y', 'critical'));
  await d.stop();
  assert.equal(sim.read(21), 1, 'safe (off) on stop');
});

test('simulated backend: pulse counting gives rates; every pulse is accounted for', async () => {
  const sim = new SimulatedGpio();
  const cfg = gpioConfigSchema.parse({
    backend: 'simulated',
    device: 'pump-1',
    inputs: [{ pin: 22, name: 'flow_lpm', mode: 'counter', interval: '100ms', scale: 1 / 7.5 }],
  }) as GpioConfig;
  const d = gpioPlugin.create('io', cfg, makeDeps(new Map([[SIMULATED_GPIO_SERVICE, sim]])));
  drivers.push(d);
  const ctx = makeCtx();
  await d.start(ctx);
  const total = () => byStream(ctx.readings, 'pump-1/flow_lpm').reduce((s, r) => s + (r.fields!.pulses as number), 0);
  sim.pulse(22, 75);
  await waitFor(() => total() === 75, 'first burst counted');
  const withPulses = byStream(ctx.readings, 'pump-1/flow_lpm').find((r) => (r.fields!.pulses as number) > 0)!;
  const secs = 75 / 7.5 / withPulses.value; // value = pulses/s × scale
  assert.ok(secs > 0.05 && secs < 5, 'rate is pulses per second × scale');
  const stopTrain = sim.pulseTrain(22, 500);
  await waitFor(() => total() > 200, 'pulse train counted');
  stopTrain();
  sim.pulse(22, 10);
  const before = total();
  await waitFor(() => total() >= before + 10 && byStream(ctx.readings, 'pump-1/flow_lpm').at(-1)!.fields!.pulses === 0, 'settled');
  await d.stop();
  assert.ok(byStream(ctx.readings, 'pump-1/flow_lpm').every((r) => r.value >= 0 && Number.isFinite(r.value)));
});

test('gpio config: duplicate pins and typos are refused', () => {
  assert.throws(
    () => gpioPlugin.create('io', gpioConfigSchema.parse({ inputs: [{ pin: 4, name: 'a' }], outputs: [{ pin: 4, name: 'b' }] }) as GpioConfig, makeDeps()),
    /BCM pin 4 is configured twice/,
  );
  assert.equal(gpioConfigSchema.safeParse({ inputs: [{ pin: 4, name: 'a', debounse: '10ms' }] }).success, false);
  assert.equal(gpioConfigSchema.safeParse({ inputs: [{ pin: 99, name: 'a' }] }).success, false);
});
