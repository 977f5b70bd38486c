/** The `counter` step's config schema (the operator is in counter.ts). */
import type { z } from 'zod';
import type { SchemaKit } from '../../../core/plugin.js';

export function counterStepSchema({ z, durationSchema }: SchemaKit) {
  const metricName = z.string().regex(/^[^/]+$/, 'expected a metric name without "/"');
  return z.strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/).default('counter').describe('Name in saved state and in the step counters.'),
    per: durationSchema.default(1000).describe('The rate is the increase per this time: `1s` (default, as Prometheus), `1h` for an energy meter in kWh to read kW.'),
    wrap: z.number().positive().optional().describe('The counter wraps to 0 at this value (65536 for a 16-bit register, 4294967296 for 32 bits): a fall of more than half of it is a wrap, its increase counted across it. Unset: every fall is a reset.'),
    metrics: z.array(metricName).min(1).optional().describe('Metrics that are counters. Default: every metric; the others pass unchanged.'),
  });
}

export type CounterStepSpec = z.output<ReturnType<typeof counterStepSchema>>;
