/** The `multivariate` step's config schema (the operator is in multivariate-step.ts, the model in mewma.ts). */
import type { z } from 'zod';
import type { SchemaKit } from '../../core/plugin.js';
import { detectorSchemaKit } from '../schema.js';

export function multivariateStepSchema(k: SchemaKit) {
  const { z } = k;
  const { alertSchema } = detectorSchemaKit(k);
  /** This step's alert lifecycle: the detect step's, with a wider hysteresis (chosen with the rest, bench/tune/multivariate.ts). */
  const mvAlertSchema = alertSchema.extend({
    clear_score: z.number().min(0).max(1).default(0.3).describe('Hysteresis: while an alert is active, a row only counts as normal when its score is below this (0.3: the statistic below 0.43 × threshold), so one fault is one alert.'),
    clear_readings: z.number().int().positive().max(1_000_000).default(30).describe('...for at least this many rows in a row before the alert clears.'),
  }).describe('The alert lifecycle per device: raised → active → cleared, one alert per episode (the detect step\'s fields; wider hysteresis by default).');

  const metric = z.string().regex(/^[^/]+$/, 'expected a metric name (the part of the stream after the device)');

  return z
    .strictObject({
      name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected a name of lower-case letters, digits, _ or -').default('multivariate').describe('Detector name in alert records and saved state.'),
      metrics: z.array(metric).min(1).max(32).optional().describe('The sensors judged together, by metric name, in this order. Default: the metrics of a device\'s first timestamp (up to 32); others pass on unjudged.'),
      baseline: z.number().int().min(10).max(1_000_000).default(250).describe('Rows (one reading per sensor at one timestamp) from the start of a device\'s run that learn each sensor\'s mean and spread and how the sensors move together.'),
      calibration: z.number().int().min(10).max(1_000_000).default(250).describe('Rows after the baseline that learn how far the smoothed deviations wander in normal running (slow states such as a warming motor wander far; sensor noise little).'),
      lambda: z.number().gt(0).max(1).default(0.05).describe('Smoothing weight of each row (MEWMA λ): 0.05 judges about the last 20–40 rows, so a small persistent change adds up and one noisy row does not.'),
      agree: z.number().int().min(1).max(32).default(2).describe('The statistic is the RMS of this many largest decorrelated deviations ("k of n agree"); the number of sensors or more gives Hotelling\'s T² / n.'),
      threshold: z.number().positive().default(4).describe('Anomalous when the statistic reaches this (in units of the calibrated spread).'),
      ridge: z.number().min(0).max(10).default(0.05).describe('Shrinks the learnt correlations by 1 / (1 + ridge), so two near-duplicate sensors do not make the model singular.'),
      adapt: z.number().min(0).max(1).default(0).describe('After the baseline, each sensor\'s mean moves this fraction towards every row that is not anomalous (0: the baseline stays frozen).'),
      alert: mvAlertSchema.default(() => mvAlertSchema.parse({})),
      output: z.string().regex(/^[a-z][a-z0-9_-]*$/, 'expected an output name of lower-case letters, digits, _ or -').default('alerts').describe('Named output that alert records go to.'),
      max_devices: z.number().int().positive().max(1_000_000).default(10_000).describe('Most devices judged; readings of further devices pass on unjudged (`multivariate_device_limit` drops).'),
    })
    .superRefine((s, ctx) => {
      if (s.metrics && new Set(s.metrics).size !== s.metrics.length) ctx.addIssue({ code: 'custom', path: ['metrics'], message: 'metrics must not repeat a name' });
    });
}

export type MultivariateStepSpec = z.output<ReturnType<typeof multivariateStepSchema>>;
