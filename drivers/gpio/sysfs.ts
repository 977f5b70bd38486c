import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../src/core/log.js';
import type { GpioBackend, Level } from './simulated.js';

/**
 * Linux sysfs GPIO (`/sys/class/gpio`). Pins are BCM numbers; the kernel number is the chip
 * base + BCM. Raspberry Pi kernels 6.6+ put the SoC chip's base at 512 (Pi 4, `pinctrl-bcm2711`)
 * or 571 (Pi 5, `pinctrl-rp1`); older kernels at 0. The base is read from
 * `<root>/class/gpio/gpiochip*\/{label,base}`, or given (`chip_base`).
 */
export interface GpioChip {
  name: string;
  label: string;
  base: number;
  ngpio: number;
}

/** Labels of the Raspberry Pi SoC GPIO chips, best first. */
const PI_CHIP_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2712', 'pinctrl-bcm2711', 'pinctrl-bcm2835'];

function listChips(root: string): GpioChip[] {
  const dir = join(root, 'class', 'gpio');
  const out: GpioChip[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.startsWith('gpiochip')) continue;
    try {
      const label = readFileSync(join(dir, name, 'label'), 'utf8').trim();
      const base = Number(readFileSync(join(dir, name, 'base'), 'utf8').trim());
      let ngpio = 0;
      try {
        ngpio = Number(readFileSync(join(dir, name, 'ngpio'), 'utf8').trim());
      } catch {
        /* optional */
      }
      if (Number.isInteger(base)) out.push({ name, label, base, ngpio });
    } catch {
      /* not a chip directory */
    }
  }
  return out.sort((a, b) => a.base - b.base);
}

/** The chip base for BCM numbering: `chip_label` if given, else a known Pi SoC chip, else the only chip. */
export function resolveChipBase(root: string, label?: string): { base: number; chip: GpioChip } {
  const chips = listChips(root);
  if (chips.length === 0) throw new Error(`no GPIO chips under ${join(root, 'class', 'gpio')} (gpiochip*/label and base); set chip_base`);
  let chip: GpioChip | undefined;
  if (label) {
    chip = chips.find((c) => c.label === label);
    if (!chip) throw new Error(`no GPIO chip labelled "${label}" under ${join(root, 'class', 'gpio')}; found ${chips.map((c) => `${c.label} (base ${c.base})`).join(', ')}`);
  } else {
    for (const l of PI_CHIP_LABELS) {
      chip = chips.find((c) => c.label === l);
      if (chip) break;
    }
    if (!chip && chips.length === 1) chip = chips[0];
    if (!chip) throw new Error(`cannot tell which GPIO chip carries the BCM pins: found ${chips.map((c) => `${c.label} (base ${c.base})`).join(', ')}; set chip_label or chip_base`);
  }
  return { base: chip.base, chip };
}

interface OnoffGpio {
  watch(cb: (err: Error | null | undefined, value: Level) => void): void;
  unwatchAll(): void;
}
type OnoffCtor = new (gpio: number, direction: 'in', edge: 'both') => OnoffGpio;

export interface SysfsOptions {
  root: string;
  base: number;
  /** Poll interval for value files when interrupts (onoff/epoll) are not available. */
  pollMs: number;
  log: Logger;
  /** onoff's Gpio class, when it loaded and root is the real /sys. */
  onoff?: OnoffCtor;
}

export class SysfsGpio implements GpioBackend {
  readonly kind = 'sysfs';
  private readonly exported: number[] = [];
  private readonly polls: NodeJS.Timeout[] = [];
  private readonly watched: OnoffGpio[] = [];

  constructor(private readonly o: SysfsOptions) {}

  private dir(n: number): string {
    return join(this.o.root, 'class', 'gpio', `gpio${n}`);
  }

  private async export(bcm: number): Promise<number> {
    const n = this.o.base + bcm;
    if (!existsSync(this.dir(n))) {
      try {
        writeFileSync(join(this.o.root, 'class', 'gpio', 'export'), String(n));
      } catch (e) {
        throw new Error(`cannot export GPIO ${n} (BCM ${bcm}) via ${join(this.o.root, 'class', 'gpio', 'export')}: ${(e as Error).message}; is the user in the gpio group?`);
      }
      this.exported.push(n);
      // the kernel creates the directory, udev then fixes permissions: wait a little
      const t0 = performance.now();
      while (!existsSync(join(this.dir(n), 'value'))) {
        if (performance.now() - t0 > 2000) throw new Error(`GPIO ${n} (BCM ${bcm}) did not appear at ${this.dir(n)} after export`);
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    return n;
  }

  private writeAttr(n: number, attr: string, value: string): void {
    try {
      writeFileSync(join(this.dir(n), attr), value);
    } catch (e) {
      throw new Error(`cannot write "${value}" to ${join(this.dir(n), attr)}: ${(e as Error).message}`);
    }
  }

  private readValue(n: number): Level {
    return readFileSync(join(this.dir(n), 'value'), 'utf8').trim() === '1' ? 1 : 0;
  }

  async input(bcm: number, onChange: (level: Level, ts: number) => void): Promise<void> {
    const n = await this.export(bcm);
    this.writeAttr(n, 'direction', 'in');
    this.writeAttr(n, 'edge', 'both');
    if (this.o.onoff) {
      const g = new this.o.onoff(n, 'in', 'both');
      g.watch((err, value) => {
        if (!err) onChange(value, Date.now());
      });
      this.watched.push(g);
      return;
    }
    let last = this.readValue(n);
    const t = setInterval(() => {
      let v: Level;
      try {
        v = this.readValue(n);
      } catch {
        return;
      }
      if (v !== last) {
        last = v;
        onChange(v, Date.now());
      }
    }, this.o.pollMs);
    this.polls.push(t);
  }

  async output(bcm: number, initial: Level): Promise<void> {
    const n = await this.export(bcm);
    this.writeAttr(n, 'direction', initial ? 'high' : 'low'); // sets direction and level at once, no glitch
  }

  write(bcm: number, level: Level): void {
    this.writeAttr(this.o.base + bcm, 'value', level ? '1' : '0');
  }

  read(bcm: number): Level {
    return this.readValue(this.o.base + bcm);
  }

  async close(): Promise<void> {
    for (const t of this.polls) clearInterval(t);
    for (const g of this.watched) g.unwatchAll();
    this.polls.length = 0;
    this.watched.length = 0;
    for (const n of this.exported) {
      try {
        writeFileSync(join(this.o.root, 'class', 'gpio', 'unexport'), String(n));
      } catch (e) {
        this.o.log.warn(`GPIO: cannot unexport ${n}: ${(e as Error).message}`);
      }
    }
    this.exported.length = 0;
  }
}

/** onoff (optional dependency, Linux only), or undefined when it is not installed or does not load. */
export async function loadOnoff(): Promise<OnoffCtor | undefined> {
  try {
    const m = (await import('onoff')) as unknown as { Gpio: OnoffCtor & { accessible?: boolean } };
    return m.Gpio;
  } catch {
    return undefined;
  }
}
