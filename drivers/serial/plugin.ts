/**
 * The `serial` driver, declared once: kind, config schema, factory, docs and a sample config.
 * Listed in the composition root (src/plugins.ts); more in README.md beside this file.
 */
import type { DriverPlugin } from '../../src/core/plugin.js';
import { serialConfigSchema, type SerialConfig } from './config.js';
import { SerialDriver } from './index.js';

export const serialPlugin: DriverPlugin<SerialConfig> = {
  type: 'driver',
  kind: 'serial',
  description: 'Serial input (USB/UART): CSV, JSON lines, key=value or NMEA 0183 GPS, with reconnect and a silence watchdog.',
  schema: serialConfigSchema,
  create: (name, config, deps) => new SerialDriver(name, config, deps),
  sample: `
inputs:
  # A GPS module (NMEA 0183) on a USB serial adapter.
  - type: serial
    name: gps
    path: /dev/serial/by-id/usb-u-blox_AG_GNSS_receiver-if00
    baud_rate: 9600
    format: nmea
    silence_timeout: 10s      # GPS talks every second: reopen after 10 s of silence
    nmea:
      checksum: required      # optional: for a receiver that never sends *hh
      undated: gateway_clock  # a GGA/GLL-only receiver (no RMC/ZDA date): date its fixes by the gateway clock
  # A PLC or microcontroller printing CSV lines: 1700000000123,21.5,1013.2
  - type: serial
    name: boiler
    path: /dev/ttyACM0
    baud_rate: 115200
    data_bits: 8
    parity: none
    stop_bits: 1
    format: csv
    csv:
      columns: [ts, water_temp, pressure]
    max_line_bytes: 512
    reconnect_min: 500ms
    reconnect_max: 30s
`,
};
