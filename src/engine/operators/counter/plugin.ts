/** The `counter` operator step, declared once (listed in src/plugins.ts). */
import type { OperatorPlugin } from '../../operator-plugin.js';
import { CounterOperator } from './counter.js';
import { counterStepSchema, type CounterStepSpec } from './schema.js';

export const counterPlugin: OperatorPlugin<CounterStepSpec> = {
  type: 'operator',
  kind: 'counter',
  description: 'Turn a cumulative counter (an energy meter\'s kWh, a water meter, a packet or pulse count) into its rate, the increase per `per` between consecutive readings; a fall is a reset (or a wrap, with `wrap`), as Prometheus\'s rate() reads one.',
  schema: counterStepSchema,
  compile: (spec) => new CounterOperator(spec),
  sample: `
per: 1h
`,
};
