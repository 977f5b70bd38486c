/**
 * The `detect` step's config schema, built from the detector plugins: one branch per detector kind,
 * discriminated on `detector`. Each detector declares its own fields (its plugin.ts) with the kit
 * below; the fields every detect step has (`name`, `field`, `alert`, `output`) are added here.
 * zod is imported for types only: the config loader passes it in (src/config/schema-kit.ts).
 */
import type { z } from 'zod';
import type { PluginObjectSchema, SchemaKit } from '../core/plugin.js';
import type { DetectorPlugin } from './types.js';
import type { DetectStepSpec } from './step.js';

/** What a detector's `schema` gets: the schema kit, shared field helpers and `detectStep`. */
export function detectorSchemaKit(k: SchemaKit) {
  const { z, durationSchema } = k;
  const direction = z.enum(['both', 'up', 'down']).default('both').describe('Which deviations count: `up` (above the baseline), `down` (below) or `both`.');
  const warmup = (n: number) => z.number().int().nonnegative().max(1_000_000).default(n).describe(`Readings to learn from before judging (default ${n}); never anomalous meanwhile.`);
  const minStd = z.number().nonnegative().default(0).describe('Floor on the learnt standard deviation, in value units, so a very quiet stream does not alarm on tiny changes (0: a tiny relative floor).');

  const alertSchema = z
    .strictObject({
      severity: z.enum(['info', 'warning', 'critical']).default('warning').describe('Severity carried by the alert records.'),
      min_duration: durationSchema.default(0).describe('Decisions must stay anomalous this long before an alert is raised (no alert for a blip).'),
      min_readings: z.number().int().positive().max(1_000_000).default(1).describe('...and for at least this many readings.'),
      clear_score: z.number().min(0).max(1).default(0.5).describe('Hysteresis: while an alert is active, a reading only counts as normal when its score is below this (scores are >= 0.5 exactly when anomalous; 0.3 clears later than 0.5).'),
      clear_after: durationSchema.default(0).describe('The score must stay below `clear_score` this long before the alert clears.'),
      clear_readings: z.number().int().positive().max(1_000_000).optional().describe('...and for at least this many readings. Default 1; 10 for the default detector.'),
      clear_readings_within: durationSchema.optional().describe('...counted only within this long: after this long of normal readings the alert clears with fewer, so on a slow series a reading count does not hold an alert over the next event (10 readings are 10 s at 1 Hz and 10 hours at hourly readings; 0: no limit). Default 0; 1h for the default detector.'),
      cooldown: durationSchema.default(0).describe('After an alert clears, no new alert for the same key and detector for this long (anomalous decisions meanwhile are counted as suppressed).'),
      cooldown_readings: z.number().int().nonnegative().max(1_000_000).optional().describe('...nor for this many readings. Default 0; 200 for the default detector.'),
      cooldown_readings_within: durationSchema.optional().describe('...counted fully only within this long after the clear, so on a slow series a reading count does not silence it for days (0: no limit). Default 0; 6h for the default detector.'),
      cooldown_readings_score: z.number().min(0).max(1).optional().describe('...and after that, for the rest of `cooldown_readings`, a new alert needs at least this score (0: none; 0.7 is a deviation of 2.3 times its limit), so a strong new event on a slow series is raised while a weak echo of the last one is not. Default 0; 0.7 for the default detector.'),
      cooldown_same_side: z.boolean().default(false).describe('The reading cooldown (`cooldown_readings`) holds only against anomalies on the same side of the baseline as the last alert: a rise after a dip is raised at once, an echo of the dip is not. Off by default (it did not pass the leave-one-corpus-out check, docs/backtest.md); the time `cooldown` always holds.'),
      at_stop: z.enum(['keep', 'clear']).default('keep').describe('Behind a `running` step, when the machine stops: `keep` an active alert (latched: a worn bearing is still worn) until the stream is judged again after the next start, or `clear` it at the stop with the reason `<step>: stopped (…)` — for a condition of the running machine itself (idling), raised again if it is still there after the next start. Either way a count towards `min_duration` ends at the stop, and while the machine stands no alert is raised or cleared.'),
      repeat_every: durationSchema.default(0).describe('While an alert is active, emit an `active` record this often (0: only `raised` and `cleared`).'),
    })
    .describe('The alert lifecycle: raised → active → cleared, one alert per episode per key and detector.');

  const common = {
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected a name of lower-case letters, digits, _ or -').optional().describe('Detector name in alert records and state (default: the detector kind). Needed when one pipeline has two detect steps of the same kind.'),
    field: z.string().min(1).default('value').describe('What to judge: `value` for readings, or an aggregate name (e.g. `rms`, `mean`, `count`) when the step follows a window step.'),
    alert: alertSchema.default(() => alertSchema.parse({})),
    output: z.string().regex(/^[a-z][a-z0-9_-]*$/, 'expected an output name of lower-case letters, digits, _ or -').default('alerts').describe('Named output that alert records go to.'),
  };

  /** A detect step of this kind: `detector: <kind>`, the detector's own fields, then the common ones. */
  function detectStep<K extends string, S extends z.ZodRawShape>(kind: K, fields: S) {
    return z.strictObject({ detector: z.literal(kind), ...fields, ...common });
  }
  return { ...k, direction, warmup, minStd, alertSchema, detectStep };
}

export type DetectorSchemaKit = ReturnType<typeof detectorSchemaKit>;

/** The `detect` step: one branch per detector plugin (each plugin's `create` gets its own branch's output). */
export function detectStepSchema(k: SchemaKit, detectors: readonly DetectorPlugin[]): z.ZodType<DetectStepSpec> {
  const kit = detectorSchemaKit(k);
  const [first, ...rest] = detectors.map((d) => (d.schema(kit) as PluginObjectSchema).describe(d.description));
  const judge = 'Judge each reading (or window aggregate) of each key with a streaming detector and turn its decisions into alerts.';
  if (!first) return k.z.never({ message: 'no detector kinds are available in this build' }).describe(judge);
  if (rest.length === 0) return first.describe(judge) as unknown as z.ZodType<DetectStepSpec>;
  return k.z.discriminatedUnion('detector', [first, ...rest]).describe(judge) as unknown as z.ZodType<DetectStepSpec>;
}
