/** The `hold` operator step, declared once (listed in src/plugins.ts). */
import type { OperatorPlugin } from '../../operator-plugin.js';
import { HoldOperator } from './hold.js';
import { holdStepSchema, type HoldStepSpec } from './schema.js';

export const holdPlugin: OperatorPlugin<HoldStepSpec> = {
  type: 'operator',
  kind: 'hold',
  description: 'Make a stream reported by exception (Sparkplug B, an OPC UA deadband, a Zigbee or LoRaWAN sensor that reports on change, Node-RED rbe) a regular series again: its last value is passed on every `every` until a new one comes, for up to `max`.',
  schema: holdStepSchema,
  compile: (spec) => new HoldOperator(spec),
  sample: `
every: 1m
max: 1h
`,
};
