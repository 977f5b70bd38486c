import { EventEmitter } from 'node:events';

export type Level = 0 | 1;

/** What the GPIO driver needs from a backend. Levels are physical (active_low is applied by the driver). */
export interface GpioBackend {
  readonly kind: 'sysfs' | 'simulated';
  /** Configure `bcm` as an input; `onChange` gets every raw level change with its time (ms). */
  input(bcm: number, onChange: (level: Level, ts: number) => void): Promise<void>;
  /** Configure `bcm` as an output at `initial`. */
  output(bcm: number, initial: Level): Promise<void>;
  write(bcm: number, level: Level): void;
  read(bcm: number): Level;
  /** Stop watching and release the pins (outputs are set safe by the driver first). */
  close(): Promise<void>;
}

/**
 * A simulated GPIO header, for laptops and tests, and for the firmware simulator to drive:
 * set input levels (`setInput`), make pulses (`pulse`, `pulseTrain`), read what the gateway
 * drives on its outputs (`readOutput`, event `output`). Get the shared instance with
 * `simulatedGpio()` (also published to drivers as `deps.services.get('gpio.simulated')`).
 *
 * Events: `output` (bcm, level) when the gateway switches an output.
 */
export class SimulatedGpio extends EventEmitter implements GpioBackend {
  readonly kind = 'simulated';
  private readonly levels = new Map<number, Level>();
  private readonly outputs = new Set<number>();
  private readonly watchers = new Map<number, Array<(level: Level, ts: number) => void>>();
  private readonly trains = new Set<NodeJS.Timeout>();

  constructor(private readonly clock: () => number = Date.now) {
    super();
  }

  // --- the gateway side (GpioBackend) ---
  async input(bcm: number, onChange: (level: Level, ts: number) => void): Promise<void> {
    if (!this.levels.has(bcm)) this.levels.set(bcm, 0);
    let list = this.watchers.get(bcm);
    if (!list) this.watchers.set(bcm, (list = []));
    list.push(onChange);
  }

  async output(bcm: number, initial: Level): Promise<void> {
    this.outputs.add(bcm);
    this.write(bcm, initial);
  }

  write(bcm: number, level: Level): void {
    const prev = this.levels.get(bcm);
    this.levels.set(bcm, level);
    if (prev !== level) this.emit('output', bcm, level);
  }

  read(bcm: number): Level {
    return this.levels.get(bcm) ?? 0;
  }

  /** Detach all watchers (the simulated levels stay). */
  async close(): Promise<void> {
    this.watchers.clear();
    this.outputs.clear();
  }

  /** A backend view for one driver: its close() detaches only its own pins. */
  session(): GpioBackend {
    const mine: Array<[number, (level: Level, ts: number) => void]> = [];
    const outs: number[] = [];
    return {
      kind: 'simulated',
      input: async (bcm, onChange) => {
        mine.push([bcm, onChange]);
        await this.input(bcm, onChange);
      },
      output: async (bcm, initial) => {
        outs.push(bcm);
        await this.output(bcm, initial);
      },
      write: (bcm, level) => this.write(bcm, level),
      read: (bcm) => this.read(bcm),
      close: async () => {
        for (const [bcm, fn] of mine) {
          const list = this.watchers.get(bcm);
          if (list) list.splice(list.indexOf(fn), 1);
        }
        for (const b of outs) this.outputs.delete(b);
      },
    };
  }

  // --- the device side (firmware simulator, tests) ---
  /** Set the physical level of an input pin; watchers see a change if it differs. */
  setInput(bcm: number, level: Level): void {
    if (this.outputs.has(bcm)) throw new Error(`simulated GPIO: BCM ${bcm} is an output of the gateway; it cannot be driven from outside`);
    const prev = this.levels.get(bcm) ?? 0;
    this.levels.set(bcm, level);
    if (prev === level) return;
    const ts = this.clock();
    for (const w of this.watchers.get(bcm) ?? []) w(level, ts);
  }

  /** `count` full pulses (high then low) at once, e.g. a flow meter's pulses since the last tick. */
  pulse(bcm: number, count = 1): void {
    for (let i = 0; i < count; i++) {
      this.setInput(bcm, 1);
      this.setInput(bcm, 0);
    }
  }

  /** A pulse train at `hz` until the returned function is called (ticks every `tickMs`). */
  pulseTrain(bcm: number, hz: number, tickMs = 10): () => void {
    let owed = 0;
    let last = Date.now();
    const t = setInterval(() => {
      const now = Date.now();
      owed += ((now - last) / 1000) * hz;
      last = now;
      const n = Math.floor(owed);
      owed -= n;
      this.pulse(bcm, n);
    }, tickMs);
    this.trains.add(t);
    return () => {
      clearInterval(t);
      this.trains.delete(t);
    };
  }

  /** The level the gateway drives on an output pin (undefined if it is not an output). */
  readOutput(bcm: number): Level | undefined {
    return this.outputs.has(bcm) ? this.levels.get(bcm) : undefined;
  }

  /** Stop all pulse trains. */
  stopTrains(): void {
    for (const t of this.trains) clearInterval(t);
    this.trains.clear();
  }
}

/** Service name under which the runtime may publish a SimulatedGpio in `DriverDeps.services`. */
export const SIMULATED_GPIO_SERVICE = 'gpio.simulated';

const registry = new Map<string, SimulatedGpio>();

/** The process-wide simulated GPIO header (by name; default "default"), created on first use. */
export function simulatedGpio(name = 'default'): SimulatedGpio {
  let g = registry.get(name);
  if (!g) registry.set(name, (g = new SimulatedGpio()));
  return g;
}
