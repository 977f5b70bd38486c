import type { z } from 'zod';
import type { SchemaKit } from '../../src/core/plugin.js';
import { NAME_RE } from '../common/names.js';
import { tsZoneSchema } from '../common/ts-zone.js';
import { valuesPathSchema } from '../common/values-path.js';
import { DEVICE_TIME_UNITS } from '../../src/core/time.js';

/** Settings of one `serial` input (without `type`, `name`, `enabled`). */
export function serialConfigSchema({ z, durationSchema, byteSizeSchema }: SchemaKit) {
  return z.strictObject({
  path: z.string().min(1).describe('Serial device path, e.g. /dev/ttyUSB0 or /dev/serial/by-id/usb-FTDI_...-if00-port0 (stable across replugs).'),
  baud_rate: z.number().int().positive().default(9600).describe('Baud rate (GPS modules: usually 9600).'),
  data_bits: z.union([z.literal(5), z.literal(6), z.literal(7), z.literal(8)]).default(8).describe('Data bits.'),
  parity: z.enum(['none', 'even', 'odd', 'mark', 'space']).default('none').describe('Parity.'),
  stop_bits: z.union([z.literal(1), z.literal(1.5), z.literal(2)]).default(1).describe('Stop bits.'),
  rtscts: z.boolean().default(false).describe('Hardware flow control.'),
  device: z.string().regex(NAME_RE).optional().describe('Device name in stream keys (<device>/<metric>); default: the input name.'),
  format: z.enum(['csv', 'json', 'kv', 'nmea']).describe('Line format: csv (with columns), json (one object a line), kv (key=value or key:value pairs), nmea (NMEA 0183 GPS).'),
  csv: z
    .strictObject({
      columns: z
        .array(z.string().regex(/^(_|[A-Za-z0-9_.:-]{1,64})$/))
        .min(1)
        .describe('Column names in order: each a metric, or ts (timestamp), device (device name), _ (skip).'),
      delimiter: z.string().min(1).max(1).default(',').describe('Field delimiter (one character).'),
    })
    .optional()
    .describe('CSV settings (format: csv). A line equal to the column names (a header) is skipped.'),
  nmea: z
    .strictObject({
      checksum: z
        .enum(['required', 'optional'])
        .default('required')
        .describe('required: a sentence without *hh is dropped (bad_checksum). optional: for receivers that never send checksums; a *hh that is present is still verified.'),
      undated: z
        .enum(['gateway_clock', 'drop'])
        .default('gateway_clock')
        .describe('Fixes with a time of day only (GGA, GNS, GLL) wait up to 10 s of receiver time for a date (RMC or ZDA). If none comes (a GGA- or GLL-only receiver): gateway_clock dates them and the fixes after them with the gateway clock (the day nearest to it, counted nmea_dated_by_gateway) until the receiver sends a date; drop drops them (nmea_no_date).'),
    })
    .optional()
    .describe('NMEA settings (format: nmea).'),
  ts_unit: z.enum(DEVICE_TIME_UNITS).default('ms').describe('Unit of numeric timestamps in the line (ts column/key): ms, s, us or ns. ISO 8601 is always accepted; no zone means UTC (or ts_zone).'),
  ts_zone: tsZoneSchema(z),
  max_line_bytes: byteSizeSchema.default(1024).describe('Longest line kept; longer lines are counted (too_long) and discarded up to the next newline.'),
  max_fields: z.number().int().positive().default(64).describe('Most readings from one line (json, kv).'),
  ignore_fields: z
    .array(z.string())
    .default([])
    .describe('json: fields that are not readings, by flattened name (nested objects join with _); a nested object\'s name skips all of it.'),
  values_path: valuesPathSchema(z),
  reconnect_min: durationSchema.default(500).describe('First wait before reopening a port that failed or vanished; doubles each failure.'),
  reconnect_max: durationSchema.default(30_000).describe('Longest wait between reopen attempts.'),
  silence_timeout: durationSchema.default(60_000).describe('Reopen the port when no byte arrived for this long (watchdog); 0 turns it off.'),
  });
}

export type SerialConfig = z.output<ReturnType<typeof serialConfigSchema>>;

