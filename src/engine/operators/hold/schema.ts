/** The `hold` step's config schema (the operator is in hold.ts). */
import type { z } from 'zod';
import type { SchemaKit } from '../../../core/plugin.js';

/** Most copies one gap may take (`max` / `every`): a bound on the work one reading can cause. */
const MAX_COPIES = 10_000;

export function holdStepSchema({ z, durationSchema }: SchemaKit) {
  const metricName = z.string().regex(/^[^/]+$/, 'expected a metric name without "/"');
  return z
    .strictObject({
      name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/).default('hold').describe('Name in saved state and in the step counters.'),
      every: durationSchema.describe('The interval of the held series: the rate the device samples at (its scan rate), e.g. `1m`. While no new reading comes, the last value is passed on again this often.'),
      max: durationSchema.default(3_600_000).describe('How long a value is held after it was sent: the device promises a reading at least this often (its heartbeat, a LoRaWAN or Zigbee maximum report interval). Silence beyond it is silence, for the detectors of absence to see.'),
      metrics: z.array(metricName).min(1).optional().describe('Metrics held (those reported by exception). Default: every metric; the others pass unchanged.'),
    })
    .refine((s) => s.max / s.every <= MAX_COPIES, {
      message: `hold: max / every must be at most ${MAX_COPIES} copies (a value held for max at one copy per every): raise every or lower max`,
      path: ['max'],
    });
}

export type HoldStepSpec = z.output<ReturnType<typeof holdStepSchema>>;
