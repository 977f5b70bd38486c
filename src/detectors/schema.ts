/**
 * The `detect` step's config schema: one branch per detector kind, discriminated on `detector`.
 * Used where configs are validated (src/config); the compiled step is in step.ts.
 */
import { z } from 'zod';
import { durationSchema } from '../config/units.js';
import { DEFAULT_DETECTOR_PARAMS } from './default.js';
import { ISO10816_CLASSES, type Iso10816Class } from './iso10816.js';

const direction = z.enum(['both', 'up', 'down']).default('both').describe('Which deviations count: `up` (above the baseline), `down` (below) or `both`.');
const warmup = (n: number) => z.number().int().nonnegative().max(1_000_000).default(n).describe(`Readings to learn from before judging (default ${n}); never anomalous meanwhile.`);
const minStd = z.number().nonnegative().default(0).describe('Floor on the learnt standard deviation, in value units, so a very quiet stream does not alarm on tiny changes (0: a tiny relative floor).');

export const alertSchema = z
  .strictObject({
    severity: z.enum(['info', 'warning', 'critical']).default('warning').describe('Severity carried by the alert records.'),
    min_duration: durationSchema.default(0).describe('Decisions must stay anomalous this long before an alert is raised (no alert for a blip).'),
    min_readings: z.number().int().positive().max(1_000_000).default(1).describe('...and for at least this many readings.'),
    clear_score: z.number().min(0).max(1).default(0.5).describe('Hysteresis: while an alert is active, a reading only counts as normal when its score is below this (scores are >= 0.5 exactly when anomalous; 0.3 clears later than 0.5).'),
    clear_after: durationSchema.default(0).describe('The score must stay below `clear_score` this long before the alert clears.'),
    clear_readings: z.number().int().positive().max(1_000_000).optional().describe('...and for at least this many readings. Default 1; 10 for the default detector.'),
    cooldown: durationSchema.default(0).describe('After an alert clears, no new alert for the same key and detector for this long (anomalous decisions meanwhile are counted as suppressed).'),
    cooldown_readings: z.number().int().nonnegative().max(1_000_000).optional().describe('...nor for this many readings. Default 0; 200 for the default detector.'),
    repeat_every: durationSchema.default(0).describe('While an alert is active, emit an `active` record this often (0: only `raised` and `cleared`).'),
  })
  .describe('The alert lifecycle: raised → active → cleared, one alert per episode per key and detector.');

const common = {
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected a name of lower-case letters, digits, _ or -').optional().describe('Detector name in alert records and state (default: the detector kind). Needed when one pipeline has two detect steps of the same kind.'),
  field: z.string().min(1).default('value').describe('What to judge: `value` for readings, or an aggregate name (e.g. `rms`, `mean`, `count`) when the step follows a window step.'),
  alert: alertSchema.default(() => alertSchema.parse({})),
  output: z.string().regex(/^[a-z][a-z0-9_-]*$/, 'expected an output name of lower-case letters, digits, _ or -').default('alerts').describe('Named output that alert records go to.'),
};

const thresholdSchema = z
  .strictObject({
    detector: z.literal('threshold'),
    above: z.number().optional().describe('Anomalous above this value.'),
    below: z.number().optional().describe('Anomalous below this value.'),
    hysteresis: z.number().nonnegative().default(0).describe('Once anomalous, the value must come back inside the limit by this margin (value units) before the decision clears: no flapping around a limit.'),
    min_duration: durationSchema.default(0).describe('The value must stay outside the limit this long before the decision turns anomalous.'),
    ...common,
  })
  .refine((s) => s.above !== undefined || s.below !== undefined, { message: 'a threshold detector needs `above`, `below` or both' })
  .refine((s) => s.above === undefined || s.below === undefined || s.below < s.above, { message: '`below` must be less than `above`' })
  .describe('Static limits with hysteresis and a minimum duration.');

const ewmaSchema = z
  .strictObject({
    detector: z.literal('ewma'),
    alpha: z.number().gt(0).lt(1).default(0.02).describe('Weight of each new reading in the exponentially weighted mean and variance (smaller: longer memory).'),
    threshold: z.number().positive().default(5).describe('Anomalous when |z| = |value − mean| / σ reaches this.'),
    warmup: warmup(50),
    direction,
    min_std: minStd,
    clip: z.boolean().default(true).describe('Learn from the value clipped to mean ± threshold·σ, so one outlier barely moves the baseline.'),
    ...common,
  })
  .describe('EWMA mean/variance z-score with a warm-up.');

const robustShape = {
  window: z.number().int().min(5).max(4096).default(128).describe('Readings in the rolling window (bounded state: 16 bytes a reading).'),
  threshold: z.number().positive().default(5).describe('Anomalous when |value − median| / (1.4826·MAD) reaches this (3–3.5 is the textbook outlier limit; 5 keeps alerts on plain noise rare).'),
  warmup: warmup(10),
  direction,
  min_mad: z.number().nonnegative().default(0).describe('Floor on the scaled MAD, in value units (0: a tiny relative floor).'),
  ...common,
};
const robustSchema = z.strictObject({ detector: z.literal('robust_z'), ...robustShape }).describe('Robust z-score over a bounded window: median and MAD.');
const hampelSchema = z
  .strictObject({ detector: z.literal('hampel'), ...robustShape })
  .describe('Hampel identifier: a robust z-score whose outliers enter the window clipped to median ± threshold·scale, so a burst of outliers does not widen the spread.');

const cusumSchema = z
  .strictObject({
    detector: z.literal('cusum'),
    k: z.number().nonnegative().default(0.5).describe('Slack, in standard deviations: shifts smaller than this are ignored.'),
    h: z.number().positive().default(10).describe('Decision limit on the cumulative sum, in standard deviations.'),
    warmup: warmup(200),
    alpha: z.number().min(0).lt(1).default(0).describe('After warm-up, keep learning the reference with this weight while no change is under way (0: frozen reference).'),
    direction,
    min_std: minStd,
    rebaseline: z.boolean().default(true).describe('After an alarm, learn the new level as the reference (report each change once).'),
    ...common,
  })
  .describe('Two-sided CUSUM on standardised readings: level shifts and slow drifts.');

const phSchema = z
  .strictObject({
    detector: z.literal('page_hinkley'),
    delta: z.number().nonnegative().default(0.5).describe('Change tolerated, in standard deviations (δ).'),
    threshold: z.number().positive().default(40).describe('Alarm when the cumulative deviation from its extreme reaches this, in standard deviations (λ).'),
    warmup: warmup(200),
    alpha: z.number().min(0).lt(1).default(0).describe('Fading factor of the running mean (0: the mean since the last alarm).'),
    direction,
    min_std: minStd,
    rebaseline: z.boolean().default(true).describe('Restart the test after an alarm.'),
    ...common,
  })
  .describe('Page-Hinkley test for a change in the mean.');

const spikeSchema = z
  .strictObject({
    detector: z.literal('spike'),
    max_rate: z.number().positive().optional().describe('Fixed limit on the rate of change, in value units per second. Unset: adaptive, `threshold` × the typical step.'),
    threshold: z.number().positive().default(6).describe('Adaptive mode: anomalous when a step reaches this many typical steps.'),
    alpha: z.number().gt(0).lt(1).default(0.02).describe('Weight of each step in the typical step size.'),
    warmup: warmup(20),
    direction: direction.describe('`up`: spikes only; `down`: dips only; `both`.'),
    min_step: z.number().nonnegative().default(0).describe('Floor on the typical step, in value units.'),
    ...common,
  })
  .describe('Spike / dip: the rate of change from the previous reading.');

const flatlineSchema = z
  .strictObject({
    detector: z.literal('flatline'),
    tolerance: z.number().nonnegative().default(0).describe('Values within this distance of the first value of the run count as the same.'),
    readings: z.number().int().positive().max(1_000_000).default(10).describe('Anomalous once the value has repeated this many times...'),
    duration: durationSchema.default(0).describe('...and for at least this long.'),
    ...common,
  })
  .describe('Flatline: a stuck sensor repeating the same value.');

const dropoutSchema = z
  .strictObject({
    detector: z.literal('dropout'),
    interval: durationSchema.optional().describe('Expected interval between readings. Unset: learnt from the stream.'),
    missing: z.number().gt(1).max(1_000_000).default(3).describe('Anomalous when the gap before a reading reaches this many expected intervals.'),
    warmup: warmup(10),
    alpha: z.number().gt(0).lt(1).default(0.05).describe('Weight of each interval in the learnt expected interval.'),
    ...common,
  })
  .describe('Dropout: no reading for N expected intervals (judged on the first reading after the gap).');

const defaultSchema = z
  .strictObject({
    detector: z.literal('default'),
    warmup: warmup(DEFAULT_DETECTOR_PARAMS.warmup),
    range_margin: z.number().nonnegative().default(DEFAULT_DETECTOR_PARAMS.range_margin).describe('Range rule: anomalous when the value leaves the remembered range by this fraction of its width.'),
    range_steps: z.number().nonnegative().default(DEFAULT_DETECTOR_PARAMS.range_steps).describe('Range rule: the excess must also reach this many typical steps (reading-to-reading changes), so plain noise does not alarm on its occasional new extreme.'),
    range_quanta: z.number().nonnegative().default(DEFAULT_DETECTOR_PARAMS.range_quanta).describe('Range rule: on a quantised series (integer counts, levels, fixed decimals) the excess must also reach this many quanta (the smallest non-zero step seen), so reaching the next level or two is not an anomaly (0: off).'),
    range_relax: z.number().min(0).lt(1).default(DEFAULT_DETECTOR_PARAMS.range_relax).describe('Range rule: pull of the remembered range towards the baseline per reading at `time_ref` (how fast old extremes are forgotten; on faster series scaled to the same pull per unit of time).'),
    slow_alpha: z.number().gt(0).lt(1).default(DEFAULT_DETECTOR_PARAMS.slow_alpha).describe('Weight of each reading in the slow baseline and the typical step.'),
    spike_z: z.number().positive().default(DEFAULT_DETECTOR_PARAMS.spike_z).describe('Spike rule: a step must reach this many typical steps and beat the recent record step.'),
    decay: z.number().gt(0).max(1).default(DEFAULT_DETECTOR_PARAMS.decay).describe('Per-reading decay of the spike and flat records (0.9999 halves in about 6,900 readings, i.e. 24 days at `time_ref`; on faster series it is scaled to last the same time).'),
    flat_readings: z.number().int().positive().default(DEFAULT_DETECTOR_PARAMS.flat_readings).describe('Flat rule: a value repeated at least this many times, and longer than ever before.'),
    flat_factor: z.number().min(1).default(DEFAULT_DETECTOR_PARAMS.flat_factor).describe('Flat rule: the run must also reach this multiple of the longest run in recent memory (so a series with regular flat stretches does not alarm on each).'),
    periods: z.array(durationSchema).min(1).max(4).refine((a) => a.every((ms) => ms >= 60_000), { message: 'each period must be at least 1m' }).default(DEFAULT_DETECTOR_PARAMS.periods).describe('Season rule: candidate periods (default 1d and 7d); the one whose slot means predict the series best is used, once it has seen two periods.'),
    season_slots: z.number().int().min(8).max(2016).default(DEFAULT_DETECTOR_PARAMS.season_slots).describe('Season rule: slots per period (state: 8 bytes a slot a period).'),
    season_alpha: z.number().gt(0).max(1).default(DEFAULT_DETECTOR_PARAMS.season_alpha).describe('Season rule: weight of a reading in its slot means, per visit of the slot (0.2: about the last 5 periods).'),
    season_ratio: z.number().gt(0).max(1).default(DEFAULT_DETECTOR_PARAMS.season_ratio).describe('Season rule: a period\'s model is used only when its prediction error is below this fraction of the error of a flat level.'),
    season_z: z.number().positive().default(DEFAULT_DETECTOR_PARAMS.season_z).describe('Season rule: anomalous when |value − seasonal prediction| reaches this many error scales.'),
    season_k: z.number().nonnegative().default(DEFAULT_DETECTOR_PARAMS.season_k).describe('Season rule: CUSUM slack on the standardised seasonal residual (error scales).'),
    season_h: z.number().positive().default(DEFAULT_DETECTOR_PARAMS.season_h).describe('Season rule: CUSUM limit on the standardised seasonal residual: a sustained deviation from the usual value at this time of day/week.'),
    seq_width: z.number().positive().default(DEFAULT_DETECTOR_PARAMS.seq_width).describe('Sequence rule: the value is quantised into levels spanning the baseline ± this many typical deviations (mean |value − baseline|); beyond them one level below and one above.'),
    seq_bins: z.number().int().min(2).max(13).default(DEFAULT_DETECTOR_PARAMS.seq_bins).describe('Sequence rule: equal bins over that span; sequences of up to three levels are remembered.'),
    seq_age: z.number().int().min(10).max(1_000_000).default(DEFAULT_DETECTOR_PARAMS.seq_age).describe('Sequence rule: every this many readings all sequence counts are halved (a sequence seen once is forgotten, a frequent one lasts).'),
    seq_long: z.number().int().min(10).max(1_000_000).default(DEFAULT_DETECTOR_PARAMS.seq_long).describe('Sequence rule: readings in the long-run mean and spread of the surprise that the recent surprise is judged against (anomaly-likelihood stage).'),
    seq_z: z.number().positive().default(DEFAULT_DETECTOR_PARAMS.seq_z).describe('Sequence rule: the recent surprise (share of contexts that did not predict the level, averaged over about 10 readings) must be this many spreads above its long-run mean...'),
    seq_share: z.number().gt(0).max(1).default(DEFAULT_DETECTOR_PARAMS.seq_share).describe('...and at least this share: most recent levels unpredicted, not one odd reading.'),
    rules: z.array(z.enum(['range', 'spike', 'flat', 'season', 'sequence'])).min(1).default([...DEFAULT_DETECTOR_PARAMS.rules]).describe('Rules switched on.'),
    time_ref: durationSchema.refine((ms) => ms > 0, { message: 'time_ref must be positive' }).default(DEFAULT_DETECTOR_PARAMS.time_ref).describe('Reference interval (default 5m): `range_relax` and `decay` are per reading at this interval or slower; on faster series they are scaled down with the observed interval so the memories last the same time rather than the same number of readings.'),
    ...common,
  })
  .describe('The default detector for a series of unknown kind: range, spike, flat, season and sequence rules judged against the stream\'s own history.');

// --- maintenance detectors (level_shift, iso10816): src/detectors/level-shift.ts, iso10816.ts ---

const levelShiftSchema = z
  .strictObject({
    detector: z.literal('level_shift'),
    baseline: durationSchema.default(6 * 3_600_000).describe('Early life: the level over this span from the first reading is the baseline (mean and spread of the log level), frozen afterwards so a slow trend is never learnt as normal.'),
    min_baseline: z.number().int().min(2).max(1_000_000).default(12).describe('...and at least this many readings.'),
    log: z.boolean().default(true).describe('Judge the log of the value (ratios to the early level: vibration RMS, peak); values ≤ 0 are then not judged.'),
    k: z.number().nonnegative().default(3).describe('CUSUM slack, in baseline standard deviations: smaller excursions are forgiven.'),
    h: z.number().positive().default(20).describe('CUSUM limit on the summed excess, in standard deviations × reference intervals.'),
    per: durationSchema.refine((ms) => ms > 0, { message: 'per must be positive' }).default(600_000).describe('Reference interval: a reading adds its excess × min(1, time since the previous reading / per), so the time to alarm is the same at any sampling interval.'),
    max_z: z.number().positive().default(10).describe('Standardised deviations are clipped to this, so one wild reading adds at most max_z − k.'),
    min_std: z.number().nonnegative().default(0.05).describe('Floor on the baseline standard deviation (log units with `log`: 0.05 ≈ 5 %).'),
    direction: direction.default('up'),
    ...common,
  })
  .describe('Slow trend or level shift against the early-life baseline: CUSUM on the standardised log level, time-weighted so it holds at any sampling interval.');

const iso10816Schema = z
  .strictObject({
    detector: z.literal('iso10816'),
    class: z.enum(ISO10816_CLASSES as [Iso10816Class, ...Iso10816Class[]]).default('II').describe('Machine class (ISO 10816-1: I small ≤ 15 kW, II medium 15–75 kW, III large rigid, IV large soft foundation) or ISO 10816-3 group (group1 300 kW–50 MW, group2 15–300 kW; rigid or flexible supports).'),
    zone: z.enum(['C', 'D']).default('C').describe('Lowest zone that is anomalous: C (unsatisfactory for long-term operation) or D (severe: damage).'),
    unit: z.enum(['mm/s', 'in/s']).default('mm/s').describe('Unit of the velocity RMS readings.'),
    hysteresis: z.number().min(0).lt(1).default(0.1).describe('Once in the zone, the value must fall this fraction below the boundary to leave it.'),
    ...common,
  })
  .describe('ISO 10816 / 20816 vibration severity zones on velocity RMS by machine class: a physical rule, no learning.');

// --- end of maintenance detectors ---

export const detectStepSchema = z
  .discriminatedUnion('detector', [
    defaultSchema, thresholdSchema, ewmaSchema, robustSchema, hampelSchema, cusumSchema, phSchema, spikeSchema, flatlineSchema, dropoutSchema,
    levelShiftSchema, iso10816Schema,
  ])
  .describe('Judge each reading (or window aggregate) of each key with a streaming detector and turn its decisions into alerts.');

export type DetectStepSpec = z.output<typeof detectStepSchema>;
export type DetectorKind = DetectStepSpec['detector'];
