/** The `news2` step's config schema (the operator is in news2-step.ts). */
import type { z } from 'zod';
import type { SchemaKit } from '../../core/plugin.js';
import { VITALS, type Vital } from './news2-tracker.js';

export function news2StepSchema({ z, durationSchema }: SchemaKit) {
  const vitalEnum = z.enum(VITALS as [Vital, ...Vital[]]);
  const nameRe = /^[a-z][a-z0-9_-]*$/;

  return z
    .strictObject({
      name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/).default('news2').describe('Name in alert records and saved state.'),
      interval: durationSchema.default(30_000).describe('Score each patient at the end of every interval (aligned to the epoch), from the vitals seen in it.'),
      lateness: durationSchema.default(2_000).describe('Live: close an interval once the gateway clock is this far past its end (a reading of an interval already scored is counted as `news2_late`).'),
      metrics: z.record(z.string().regex(/^[^/]+$/), vitalEnum).optional().describe('Metric name → vital (respiration_rate, spo2, on_oxygen, systolic_bp, pulse, consciousness, temperature). Default: the simulator\'s names (`heart_rate`, `resp_rate`, `spo2`, `systolic_bp`, `temperature`, `consciousness`, `on_oxygen`, also `pulse`, `respiration_rate`). Other metrics are ignored (passed on unchanged).'),
      max_age: z.partialRecord(vitalEnum, durationSchema).optional().describe('Oldest a vital may be when scored before it counts as missing. Defaults: pulse, SpO2, respiration 1m; systolic BP 1h; temperature, consciousness, oxygen 4h.'),
      plausible: z.partialRecord(vitalEnum, z.tuple([z.number(), z.number()])).optional().describe('Plausible [min, max] per vital; a reading outside is a sensor fault (not scored). Defaults: SpO2 [50, 100], pulse [20, 300], respiration [1, 80], systolic BP [40, 300], temperature [25, 45].'),
      spo2_scale: z.union([z.literal(1), z.literal(2)]).default(1).describe('SpO2 scale for every patient of this pipeline (2: target 88–92 %, for hypercapnic respiratory failure, a clinical decision).'),
      alert_band: z.enum(['low-medium', 'medium', 'high']).default('low-medium').describe('Lowest band that raises an alert (low-medium: a single parameter scored 3).'),
      confirm: z.number().int().positive().max(1000).default(1).describe('Intervals in a row at `alert_band` or above before an alert is raised.'),
      clear_after: z.number().int().positive().max(1000).default(2).describe('Complete intervals in a row below `alert_band` before the alert clears.'),
      output: z.string().regex(nameRe).default('alerts').describe('Named output for NEWS2 alert records.'),
      sensor_fault_output: z.string().regex(nameRe).optional().describe('If set, a `sensor_fault` alert (severity info) goes to this output while a vital reads implausible values. Unset: sensor faults are only counted (`sensor_fault` drops).'),
      metric: z.string().regex(/^[^/]+$/).default('news2').describe('Metric name of the results passed on: `<patient>/<metric>`.'),
      max_patients: z.number().int().positive().max(1_000_000).default(10_000).describe('Most patients tracked; readings of further patients are refused (`too_many_patients` drops).'),
    });
}

export type News2StepSpec = z.output<ReturnType<typeof news2StepSchema>>;
