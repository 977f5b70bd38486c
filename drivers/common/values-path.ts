import type { SchemaKit } from '../../src/core/plugin.js';

/** `values_path`: where in a JSON payload its readings are, when metadata wraps them (both text drivers). */
export function valuesPathSchema(z: SchemaKit['z']) {
  return z
    .string()
    .regex(/^[^.]+(\.[^.]+)*$/, 'a dot path of object keys, e.g. uplink_message.decoded_payload')
    .optional()
    .describe('Dot path to the object whose fields are the readings, when a payload wraps them in metadata: uplink_message.decoded_payload (The Things Stack), object (ChirpStack). Time keys are looked up there first, then at the top level.');
}

/** The keys of a `values_path` setting (undefined: the whole object). */
export function pathOf(valuesPath: string | undefined): string[] | undefined {
  return valuesPath?.split('.');
}
