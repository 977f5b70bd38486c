import type { z } from 'zod';
import type { SchemaKit } from '../../src/core/plugin.js';
import { NAME_RE } from '../common/names.js';

/** Settings of one `gpio` input (without `type`, `name`, `enabled`), and of its pins. */
export function gpioSchemas({ z, durationSchema }: SchemaKit) {
  const pin = z.number().int().min(0).max(63).describe('BCM pin number (the GPIOn name on the Pi header, not the physical pin).');

  const gpioInputSchema = z.strictObject({
    pin,
    name: z.string().regex(NAME_RE).describe('Metric name: the stream is <device>/<name>.'),
    mode: z.enum(['state', 'counter']).default('state').describe('state: a reading (1/0) on every debounced change; counter: a rate reading per interval from counted pulses.'),
    edge: z
      .enum(['both', 'rising', 'falling'])
      .optional()
      .describe('Which changes count: state mode default both (readings on rising only / falling only if set); counter mode default rising.'),
    active_low: z.boolean().default(false).describe('Invert the level (for switches that pull the pin to ground when closed).'),
    debounce: durationSchema
      .optional()
      .describe('state: a change must hold this long to count (default 20ms); counter: edges closer than this to the last counted one are ignored (default 0).'),
    interval: durationSchema.default(1000).describe('counter: how often a rate reading is emitted.'),
    scale: z.number().positive().default(1).describe('counter: value = pulses per second × scale (e.g. 1/7.5 for a flow meter with 7.5 Hz per L/min; 60/pulses_per_rev for RPM).'),
    emit_initial: z.boolean().default(true).describe('state: emit the level read at start.'),
  });

  const gpioOutputSchema = z.strictObject({
    pin,
    name: z.string().regex(NAME_RE).describe('Output name (for logs and counters), e.g. buzzer.'),
    active_low: z.boolean().default(false).describe('Drive the pin low for "on".'),
    streams: z.array(z.string().min(1)).default(['**']).describe('Alerts on these streams switch the output on (globs: * within a segment, ** anything), e.g. pump-*/vibration_rms.'),
    detectors: z.array(z.string()).optional().describe('Only alerts from these detectors (default: any).'),
    min_severity: z.enum(['info', 'warning', 'critical']).default('warning').describe('Least severity that switches the output on.'),
    safe_state: z.enum(['off', 'on']).default('off').describe('State at start and on shutdown.'),
  });

  const gpioConfigSchema = z.strictObject({
    backend: z
      .enum(['auto', 'sysfs', 'simulated'])
      .default('auto')
      .describe('auto: sysfs when <sysfs_root>/class/gpio exists, else the simulated backend (with a message); sysfs: refuse to start without it; simulated: always simulate.'),
    sysfs_root: z.string().default('/sys').describe('Root of sysfs (tests point it at a fake tree).'),
    chip_label: z.string().optional().describe('Label of the GPIO chip carrying the BCM pins (default: a known Pi SoC chip: pinctrl-rp1, pinctrl-bcm2711, pinctrl-bcm2835...).'),
    chip_base: z.number().int().min(0).optional().describe('Kernel number of BCM 0, overriding the chip lookup (512 on a Pi 4 and 571 on a Pi 5 with kernel 6.6+, 0 on older kernels).'),
    poll_interval: durationSchema.default(10).describe('How often value files are read when interrupts are not available (fake trees, onoff missing).'),
    device: z.string().regex(NAME_RE).optional().describe('Device name in stream keys; default: the input name.'),
    inputs: z.array(gpioInputSchema).default([]).describe('Digital inputs.'),
    outputs: z.array(gpioOutputSchema).default([]).describe('Digital outputs switched by alerts (buzzer, lamp): on while any matching alert is active.'),
  });

  return { input: gpioInputSchema, output: gpioOutputSchema, config: gpioConfigSchema };
}

export const gpioConfigSchema = (k: SchemaKit) => gpioSchemas(k).config;

type GpioSchemas = ReturnType<typeof gpioSchemas>;
export type GpioConfig = z.output<GpioSchemas['config']>;
export type GpioInputConfig = z.output<GpioSchemas['input']>;
export type GpioOutputConfig = z.output<GpioSchemas['output']>;

