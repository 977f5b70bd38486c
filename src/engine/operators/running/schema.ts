/** The `running` step's config schema (the operator is in running.ts). */
import type { z } from 'zod';
import type { SchemaKit } from '../../../core/plugin.js';

export function runningStepSchema({ z, durationSchema }: SchemaKit) {
  const metricName = z.string().regex(/^[^/]+$/, 'expected a metric name without "/"');
  return z.strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/).default('running').describe('Name in saved state and in the step counters.'),
    metric: metricName.describe('The metric of the same device that says whether the machine runs, e.g. `current_a`.'),
    above: z.number().describe('The machine runs while that metric reads above this (set for the machine: e.g. a third of its running current).'),
    settle: durationSchema.default(120_000).describe('After each start, readings this long are held back too (inrush current, run-up vibration).'),
    settle_by_metric: z.record(metricName, durationSchema).optional().describe('A longer (or shorter) settle for some metrics, e.g. `{ bearing_temp_c: 1h }`: a bearing warms for an hour after a start from cold.'),
    metrics: z.array(metricName).min(1).optional().describe('Metrics held back while the machine is stopped or settling. Default: every metric of the device, the running metric too.'),
    without_metric: z.array(metricName).optional().describe('Metrics held back, as while stopped, from a device that has never sent `metric` (counted `no_metric`), e.g. `[speed_kmh]` where `metric` is the engine\'s rpm: a phone tracker has no engine signal, and its standing is no idling. Unset: such a device is taken as running and nothing is held.'),
    max_devices: z.number().int().positive().max(1_000_000).default(10_000).describe('Most devices tracked; readings of further devices pass unchanged and are counted (`untracked`).'),
  });
}

export type RunningStepSpec = z.output<ReturnType<typeof runningStepSchema>>;
