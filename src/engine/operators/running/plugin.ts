/** The `running` operator step, declared once (listed in src/plugins.ts). */
import type { OperatorPlugin } from '../../operator-plugin.js';
import { runningStepSchema, type RunningStepSpec } from './schema.js';
import { RunningOperator } from './running.js';

export const runningPlugin: OperatorPlugin<RunningStepSpec> = {
  type: 'operator',
  kind: 'running',
  description: 'Hold back a machine\'s readings while it is stopped and just after it starts (judged by one of its metrics, e.g. current), so the rules after it learn and judge the running machine only.',
  schema: runningStepSchema,
  compile: (spec) => new RunningOperator(spec),
  sample: `
metric: current_a
above: 1
settle: 2m
`,
};
