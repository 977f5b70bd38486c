import type { SchemaKit } from '../../src/core/plugin.js';
import { LocalZone } from '../../src/core/local-zone.js';

/** `ts_zone`: the time zone of devices that send local wall time without a zone (both text drivers). */
export function tsZoneSchema(z: SchemaKit['z']) {
  return z
    .string()
    .refine((name) => LocalZone.valid(name), { message: 'not a time zone Node knows: use an IANA name such as Europe/Berlin or America/New_York' })
    .optional()
    .describe('Time zone of date-times without a zone in the payload (devices that send local wall time, e.g. "2026-12-02 13:00:00" from a PLC): an IANA name such as Europe/Berlin. Default: such times are UTC. Numeric timestamps and times with a zone are not affected.');
}

/** The zone a `ts_zone` setting names (undefined: UTC). */
export function zoneOf(name: string | undefined): LocalZone | undefined {
  return name === undefined ? undefined : new LocalZone(name);
}
