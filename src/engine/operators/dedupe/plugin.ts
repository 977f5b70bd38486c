/** The `dedupe` operator step, declared once (listed in src/plugins.ts). */
import type { OperatorPlugin } from '../../operator-plugin.js';
import { DedupeOperator } from './dedupe.js';
import { dedupeStepSchema, type DedupeStepSpec } from './schema.js';

export const dedupePlugin: OperatorPlugin<DedupeStepSpec> = {
  type: 'operator',
  kind: 'dedupe',
  description: 'Drop a reading sent twice (the same stream, time, value, fields and tags as one of its last readings: an MQTT QoS 1 resend, a LoRaWAN uplink heard by two gateways), counted as `duplicate`, so the windows after it count each reading once.',
  schema: dedupeStepSchema,
  compile: (spec) => new DedupeOperator(spec),
  sample: `
readings: 8
`,
};
