import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DriverHealthState, type Driver, type DriverContext, type DriverDeps, type DriverHealth } from '../../src/core/driver.js';
import type { Logger } from '../../src/core/log.js';
import type { AlertRecord, Severity } from '../../src/core/records.js';
import { patternToRegExp } from '../../src/core/patterns.js';
import type { GpioConfig, GpioInputConfig, GpioOutputConfig } from './config.js';
import { SimulatedGpio, simulatedGpio, SIMULATED_GPIO_SERVICE, type GpioBackend, type Level } from './simulated.js';
import { SysfsGpio, resolveChipBase, loadOnoff } from './sysfs.js';

export { SimulatedGpio, SIMULATED_GPIO_SERVICE, type GpioBackend } from './simulated.js';
/** @public The simulated pins for the firmware simulator and tests (docs/drivers.md, "Simulated GPIO"). */
export { simulatedGpio } from './simulated.js';
export { resolveChipBase } from './sysfs.js';
export type { GpioConfig } from './config.js';

const SEVERITY: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

class InputPin {
  pulses = 0;
  changes = 0;
  private state: Level | undefined;
  private pending: NodeJS.Timeout | undefined;
  private pendingLevel: Level = 0;
  private pendingTs = 0;
  private lastCounted = -Infinity;
  private tick: NodeJS.Timeout | undefined;
  readonly stream: string;
  private readonly debounce: number;
  private readonly edge: 'both' | 'rising' | 'falling';

  constructor(private readonly cfg: GpioInputConfig, device: string, private readonly ctx: DriverContext) {
    this.stream = `${device}/${cfg.name}`;
    this.debounce = cfg.debounce ?? (cfg.mode === 'state' ? 20 : 0);
    this.edge = cfg.edge ?? (cfg.mode === 'state' ? 'both' : 'rising');
  }

  private logical(raw: Level): Level {
    return this.cfg.active_low ? ((1 - raw) as Level) : raw;
  }

  start(initialRaw: Level): void {
    const v = this.logical(initialRaw);
    this.state = v;
    if (this.cfg.mode === 'state') {
      if (this.cfg.emit_initial) this.ctx.emit({ stream: this.stream, ts: this.ctx.now(), value: v });
    } else {
      let last = this.ctx.now();
      this.tick = setInterval(() => {
        const now = this.ctx.now();
        const secs = Math.max(1e-3, (now - last) / 1000);
        last = now;
        const n = this.pulses;
        this.pulses = 0;
        this.ctx.emit({ stream: this.stream, ts: now, value: (n / secs) * this.cfg.scale, fields: { pulses: n } });
      }, this.cfg.interval);
    }
  }

  /** A raw level change from the backend. */
  change(raw: Level, ts: number): void {
    const v = this.logical(raw);
    if (this.cfg.mode === 'counter') {
      if (this.edge === 'rising' ? v !== 1 : this.edge === 'falling' ? v !== 0 : false) return;
      if (this.debounce > 0 && ts - this.lastCounted < this.debounce) return;
      this.lastCounted = ts;
      this.pulses++;
      return;
    }
    if (this.debounce <= 0) {
      this.commit(v, ts);
      return;
    }
    this.pendingLevel = v;
    this.pendingTs = ts;
    if (this.pending) clearTimeout(this.pending);
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.commit(this.pendingLevel, this.pendingTs);
    }, this.debounce);
  }

  private commit(v: Level, ts: number): void {
    if (v === this.state) return;
    this.state = v;
    this.changes++;
    if (this.edge === 'rising' && v !== 1) return;
    if (this.edge === 'falling' && v !== 0) return;
    this.ctx.emit({ stream: this.stream, ts, value: v });
  }

  stop(): void {
    if (this.pending) clearTimeout(this.pending);
    if (this.tick) clearInterval(this.tick);
    this.pending = this.tick = undefined;
  }
}

class OutputPin {
  readonly active = new Set<string>();
  switches = 0;
  on = false;
  private readonly globs: RegExp[];
  constructor(readonly cfg: GpioOutputConfig) {
    this.globs = cfg.streams.map(patternToRegExp);
  }
  matches(a: AlertRecord): boolean {
    if (SEVERITY[a.severity] < SEVERITY[this.cfg.min_severity]) return false;
    if (this.cfg.detectors && !this.cfg.detectors.includes(a.detector)) return false;
    return this.globs.some((g) => g.test(a.stream));
  }
  level(on: boolean): Level {
    return (on !== this.cfg.active_low ? 1 : 0) as Level;
  }
}

/**
 * GPIO input and output. Inputs: debounced state changes, or pulse counts → rates. Outputs:
 * switched on while any matching alert is active, back to their safe state on stop.
 */
export class GpioDriver implements Driver {
  readonly kind = 'gpio';
  private readonly status: DriverHealthState;
  private backend: GpioBackend | undefined;
  private inputs: InputPin[] = [];
  private readonly outputs: OutputPin[];
  private readonly log: Logger;
  private readonly device: string;

  constructor(readonly name: string, private readonly cfg: GpioConfig, private readonly deps: DriverDeps) {
    this.log = deps.log.child({ input: name, driver: 'gpio' });
    this.status = new DriverHealthState(deps.now);
    this.device = cfg.device ?? name;
    const pins = [...cfg.inputs.map((i) => i.pin), ...cfg.outputs.map((o) => o.pin)];
    const dup = pins.find((p, i) => pins.indexOf(p) !== i);
    if (dup !== undefined) throw new Error(`gpio input "${name}": BCM pin ${dup} is configured twice`);
    this.outputs = cfg.outputs.map((o) => new OutputPin(o));
  }

  private simulator: SimulatedGpio | undefined;

  /** The simulated header this driver uses (backend simulated), for tests and the firmware simulator. */
  get simulated(): SimulatedGpio | undefined {
    return this.simulator;
  }

  private async pickBackend(): Promise<GpioBackend> {
    const cfg = this.cfg;
    const gpioDir = join(cfg.sysfs_root, 'class', 'gpio');
    const simulated = (): GpioBackend => {
      let sim = this.deps.services.get(SIMULATED_GPIO_SERVICE) as SimulatedGpio | undefined;
      if (!sim) {
        sim = simulatedGpio();
        this.deps.services.set(SIMULATED_GPIO_SERVICE, sim);
      }
      this.simulator = sim;
      return sim.session();
    };
    if (cfg.backend === 'simulated') return simulated();
    if (!existsSync(gpioDir)) {
      if (cfg.backend === 'sysfs') throw new Error(`gpio input "${this.name}": ${gpioDir} does not exist (not a Raspberry Pi, or no sysfs GPIO in this kernel/container: mount /sys or use backend: simulated)`);
      this.log.warn(`gpio input "${this.name}": no GPIO here (${gpioDir} is missing): using the simulated GPIO backend. Set backend: sysfs to refuse instead.`);
      return simulated();
    }
    let base = cfg.chip_base;
    if (base === undefined) {
      const r = resolveChipBase(cfg.sysfs_root, cfg.chip_label);
      base = r.base;
      this.log.info(`gpio input "${this.name}": BCM pins on ${r.chip.name} (${r.chip.label}), base ${base}`);
    }
    const real = cfg.sysfs_root === '/sys' || cfg.sysfs_root === '/sys/';
    const onoff = real ? await loadOnoff() : undefined;
    if (real && !onoff) this.log.warn(`gpio input "${this.name}": the optional onoff package is not installed; polling value files every ${cfg.poll_interval} ms instead of interrupts`);
    return new SysfsGpio({ root: cfg.sysfs_root, base, pollMs: cfg.poll_interval, log: this.log, onoff });
  }

  async start(ctx: DriverContext): Promise<void> {
    if (this.status.current !== 'stopped') return;
    this.status.set('starting');
    let backend: GpioBackend;
    try {
      backend = await this.pickBackend();
      this.backend = backend;
      for (const o of this.outputs) {
        o.on = o.cfg.safe_state === 'on';
        await backend.output(o.cfg.pin, o.level(o.on));
      }
      this.inputs = [];
      for (const i of this.cfg.inputs) {
        const pin = new InputPin(i, this.device, ctx);
        this.inputs.push(pin);
        await backend.input(i.pin, (level, ts) => pin.change(level, ts));
        pin.start(backend.read(i.pin));
      }
    } catch (e) {
      const msg = (e as Error).message;
      await this.release();
      this.status.set('down', msg);
      throw new Error(msg.startsWith('gpio input') ? msg : `gpio input "${this.name}": ${msg}`);
    }
    this.status.set('up', `${backend.kind} backend, ${this.inputs.length} inputs, ${this.outputs.length} outputs`);
  }

  onAlert(alert: AlertRecord): void {
    const b = this.backend;
    for (const o of this.outputs) {
      if (alert.state === 'cleared') o.active.delete(alert.id);
      else if (o.matches(alert)) o.active.add(alert.id);
      else continue;
      const on = o.active.size > 0;
      if (on === o.on) continue;
      o.on = on;
      o.switches++;
      if (!b || this.status.current === 'stopped') continue;
      try {
        b.write(o.cfg.pin, o.level(on));
        this.log.info({ output: o.cfg.name, pin: o.cfg.pin, on, alert: alert.id, stream: alert.stream }, `gpio output ${o.cfg.name} ${on ? 'on' : 'off'}`);
      } catch (e) {
        this.log.error(`gpio output ${o.cfg.name} (BCM ${o.cfg.pin}): ${(e as Error).message}`);
        this.status.set('degraded', `cannot drive output ${o.cfg.name}: ${(e as Error).message}`);
      }
    }
  }

  private async release(): Promise<void> {
    for (const i of this.inputs) i.stop();
    const b = this.backend;
    if (!b) return;
    for (const o of this.outputs) {
      o.active.clear();
      o.on = o.cfg.safe_state === 'on';
      try {
        b.write(o.cfg.pin, o.level(o.on));
      } catch (e) {
        this.log.error(`gpio output ${o.cfg.name} (BCM ${o.cfg.pin}): cannot set safe state: ${(e as Error).message}`);
      }
    }
    await b.close();
    this.backend = undefined;
  }

  async stop(): Promise<void> {
    if (this.status.current === 'stopped') return;
    await this.release();
    this.status.set('stopped');
  }

  health(): DriverHealth {
    return this.status.health();
  }

  counters(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const i of this.inputs) out[`${i.stream.slice(this.device.length + 1)}_changes`] = i.changes;
    for (const o of this.outputs) {
      out[`${o.cfg.name}_switches`] = o.switches;
      out[`${o.cfg.name}_active_alerts`] = o.active.size;
    }
    return out;
  }
}

