/**
 * The `gpio` driver, declared once: kind, config schema, factory, docs and a sample config.
 * Listed in the composition root (src/plugins.ts); more in README.md beside this file.
 */
import type { DriverPlugin } from '../../src/core/plugin.js';
import { gpioConfigSchema, type GpioConfig } from './config.js';
import { GpioDriver } from './index.js';

export const gpioPlugin: DriverPlugin<GpioConfig> = {
  type: 'driver',
  kind: 'gpio',
  description: 'GPIO: debounced digital inputs, pulse counters (rates), and outputs switched by alerts; sysfs on a Pi, simulated elsewhere.',
  schema: gpioConfigSchema,
  create: (name, config, deps) => new GpioDriver(name, config, deps),
  sample: `
inputs:
  - type: gpio
    name: cabinet
    backend: auto             # sysfs on a Pi, simulated elsewhere (with a message)
    # chip_base: 512          # override the chip lookup (Pi 4: 512, Pi 5: 571 on kernels 6.6+)
    inputs:
      - { pin: 17, name: door, active_low: true, debounce: 50ms }         # reed switch to ground
      - { pin: 22, name: flow_lpm, mode: counter, interval: 1s, scale: 0.1333 }  # YF-S201: 7.5 Hz per L/min
      - { pin: 23, name: fan_rpm, mode: counter, interval: 5s, scale: 30 }       # 2 pulses/rev: 60/2
    outputs:
      - pin: 27
        name: buzzer
        streams: ["pump-*/vibration_rms"]
        min_severity: critical
      - pin: 24
        name: lamp
        streams: ["**"]
        min_severity: warning
        safe_state: off
`,
};
