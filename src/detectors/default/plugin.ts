/** The `default` detector, declared once (listed in src/plugins.ts). */
import type { z } from 'zod';
import { perStep, type DetectorPlugin } from '../types.js';
import type { DetectorSchemaKit } from '../schema.js';
import { DefaultDetector, DEFAULT_DETECTOR_PARAMS, type DefaultParams } from './detector.js';
import { isTimeZone } from './local-time.js';

function schema({ z, durationSchema, warmup, detectStep }: DetectorSchemaKit) {
  return detectStep('default', {
    warmup: warmup(DEFAULT_DETECTOR_PARAMS.warmup),
    range_margin: z.number().nonnegative().default(DEFAULT_DETECTOR_PARAMS.range_margin).describe('Range rule: anomalous when the value leaves the remembered range by this fraction of its width.'),
    range_steps: z.number().nonnegative().default(DEFAULT_DETECTOR_PARAMS.range_steps).describe('Range rule: the excess must also reach this many typical steps (reading-to-reading changes), so plain noise does not alarm on its occasional new extreme.'),
    range_quanta: z.number().nonnegative().default(DEFAULT_DETECTOR_PARAMS.range_quanta).describe('Range rule: on a quantised series (integer counts, levels, fixed decimals) the excess must also reach this many quanta (the resolution: the lower quartile of the non-zero steps, tracked as they come from the smallest step of the warm-up, not the smallest one ever seen: one value filled in between two levels is not the resolution), so reaching the next level or two is not an anomaly (0: off).'),
    range_relax: z.number().min(0).lt(1).default(DEFAULT_DETECTOR_PARAMS.range_relax).describe('Range rule: pull of the remembered range towards the baseline per reading at `time_ref` (how fast old extremes are forgotten; on faster series scaled to the same pull per unit of time).'),
    drift_margin: z.number().nonnegative().default(DEFAULT_DETECTOR_PARAMS.drift_margin).describe('Drift rule: anomalous when the remembered range has grown by more than this fraction of its width within about `drift_time` — a slow rise or fall (a bearing warming, a pump losing flow over minutes), which the range rule learns as it comes since each reading extends the range only a little. The growth must also reach `drift_steps` typical steps and `range_quanta` quanta. 0: off.'),
    drift_time: durationSchema.refine((ms) => ms > 0, { message: 'drift_time must be positive' }).default(DEFAULT_DETECTOR_PARAMS.drift_time).describe('Drift rule: time constant over which the range\'s extensions add up (each fades by a factor e in this time): a drift slower than the range\'s width in this time is learnt as normal.'),
    drift_steps: z.number().nonnegative().default(DEFAULT_DETECTOR_PARAMS.drift_steps).describe('Drift rule: the growth must also reach this many typical steps (reading-to-reading changes) and `range_quanta` quanta: a drift well above the noise.'),
    slow_alpha: z.number().gt(0).lt(1).default(DEFAULT_DETECTOR_PARAMS.slow_alpha).describe('Weight of each reading in the slow baseline and the typical step.'),
    spike_z: z.number().positive().default(DEFAULT_DETECTOR_PARAMS.spike_z).describe('Spike rule: a step must reach this many typical steps, beat the recent record step, and on a quantised series reach `range_quanta` quanta.'),
    decay: z.number().gt(0).max(1).default(DEFAULT_DETECTOR_PARAMS.decay).describe('Per-reading decay of the spike and flat records (0.9999 halves in about 6,900 readings, i.e. 24 days at `time_ref`; on faster series it is scaled to last the same time).'),
    spike_learn_below: durationSchema.default(DEFAULT_DETECTOR_PARAMS.spike_learn_below).describe('Spike rule: the spike record learns from a step the rule judged anomalous only on series faster than this (the time between readings); on slower series it keeps its level, so the next anomaly of that size is found again (metrics at minutes or hours: a large step is an event). Faster series learn from every step: raw sensor steps are heavy-tailed by physics (driving, impacts). 0: no series learns from an anomalous step; a long time (e.g. 1000d): every series learns from every step, as before 2026-12-04.'),
    spike_daily: z.number().nonnegative().default(DEFAULT_DETECTOR_PARAMS.spike_daily).describe('Spike rule, on series with readings spike_learn_below or more apart: a step at most this multiple of the largest lasting step in the same direction seen within ±17 minutes (or one reading interval, on slower series) of this time of day (UTC) in recent days is not a spike (a machine that starts every morning, a daily batch job: without it, such a step on a slow series would be a spike every day, since an anomalous step is not learnt there). Lasting: the series stays at least half the step away from the level before it for spike_daily_hold readings, so a daily spike that returns at once stays a spike. 0: off.'),
    spike_daily_decay: z.number().gt(0).max(1).default(DEFAULT_DETECTOR_PARAMS.spike_daily_decay).describe('Factor applied per day to the memory of spike_daily (0.85: half in ~4 days, so a weekday pattern survives a weekend).'),
    spike_daily_hold: z.number().int().positive().default(DEFAULT_DETECTOR_PARAMS.spike_daily_hold).describe('Readings a step must last, away from the level before it, to be remembered by spike_daily.'),
    glitch_readings: z.number().int().nonnegative().default(DEFAULT_DETECTOR_PARAMS.glitch_readings).describe('A glitch: a reading judged anomalous that left the remembered range by at least glitch_size of its width and came back (at least half way to the value before it) within this many readings — a temperature sensor\'s 85 °C at power-on, −127 from a loose wire, a garbage 10^6. It is reported; then the spike and season records, the typical step, the baseline and the range forget it — the range only the stream\'s first glitch in recent memory: a later one widens it by up to half its width, so on a heavy-tailed series huge values that recur stop alarming. Learnt in full (before 2026-12-07), one such reading blinded the range and the records for weeks. 0: every reading is learnt in full.'),
    glitch_size: z.number().nonnegative().default(DEFAULT_DETECTOR_PARAMS.glitch_size).describe('Glitch: the reading left the remembered range by at least this many times the range\'s width — an absurd value, not a new extreme.'),
    glitch_stuck: durationSchema.default(DEFAULT_DETECTOR_PARAMS.glitch_stuck).describe('Glitch: readings that repeat the excursion\'s value exactly — a sensor stuck on its error value, −127 for as long as a wire is loose — do not count towards glitch_readings for up to this long after it began (default 1h), so a disconnection that ends is forgotten like a single glitch; only in a run longer than flat_factor × the stream\'s own runs of one value in recent memory (a GPS course held on a straight road is no stuck sensor). 0: they count like any other reading.'),
    flat_readings: z.number().int().positive().default(DEFAULT_DETECTOR_PARAMS.flat_readings).describe('Flat rule: a value repeated at least this many times, and longer than ever before.'),
    flat_factor: z.number().min(1).default(DEFAULT_DETECTOR_PARAMS.flat_factor).describe('Flat rule: the run must also reach this multiple of the longest run in recent memory (so a series with regular flat stretches does not alarm on each).'),
    periods: z.array(durationSchema).min(1).max(4).refine((a) => a.every((ms) => ms >= 60_000), { message: 'each period must be at least 1m' }).default(DEFAULT_DETECTOR_PARAMS.periods).describe('Season rule: candidate periods (default 1d and 7d); the one whose slot means predict the series best is used, once it has seen two periods.'),
    season_slots: z.number().int().min(8).max(2016).default(DEFAULT_DETECTOR_PARAMS.season_slots).describe('Season rule: slots per period (state: 8 bytes a slot a period).'),
    season_alpha: z.number().gt(0).max(1).default(DEFAULT_DETECTOR_PARAMS.season_alpha).describe('Season rule: weight of each reading in its slot means. Per reading, not per visit (as this said until 2026-12-04): a slot that k readings visit at a time moves by about 1 − (1 − alpha)^k a visit — at 5-minute readings and 0.2, about 0.3 for the daily slots (8.6 minutes: the last few days) and 0.9 for the weekly ones (an hour: the level within the hour).'),
    season_ratio: z.number().gt(0).max(1).default(DEFAULT_DETECTOR_PARAMS.season_ratio).describe('Season rule: a period\'s model is used only when its prediction error is below this fraction of the error of a flat level.'),
    season_z: z.number().positive().default(DEFAULT_DETECTOR_PARAMS.season_z).describe('Season rule: anomalous when |value − seasonal prediction| reaches this many error scales.'),
    season_k: z.number().nonnegative().default(DEFAULT_DETECTOR_PARAMS.season_k).describe('Season rule: CUSUM slack on the standardised seasonal residual (error scales).'),
    season_h: z.number().positive().default(DEFAULT_DETECTOR_PARAMS.season_h).describe('Season rule: CUSUM limit on the standardised seasonal residual: a sustained deviation from the usual value at this time of day/week.'),
    season_shift_after: durationSchema.default(DEFAULT_DETECTOR_PARAMS.season_shift_after).describe('Season rule: the CUSUM on the seasonal residual (season_shift) counts only once the series is this old (default 5d; the single-reading season test starts after two periods). Slot means learnt from a few days carry errors that persist along the day (one odd day, a trend), which a CUSUM, assuming the prediction right on average, sums into a shift. 0: from the first usable model, as before 2026-12-04.'),
    season_cusum: z.enum(['per_reading', 'per_time']).default(DEFAULT_DETECTOR_PARAMS.season_cusum).describe('Season rule: the CUSUM adds one step per reading (`per_reading`), or on series faster than `time_ref` a step per `time_ref` of readings (`per_time`: a minute series\' residual is not five independent pieces of evidence every five minutes).'),
    seq_width: z.number().positive().default(DEFAULT_DETECTOR_PARAMS.seq_width).describe('Sequence rule: the value is quantised into levels spanning the baseline ± this many typical deviations (mean |value − baseline|); beyond them one level below and one above.'),
    seq_bins: z.number().int().min(2).max(13).default(DEFAULT_DETECTOR_PARAMS.seq_bins).describe('Sequence rule: equal bins over that span; sequences of up to three levels are remembered.'),
    seq_age: z.number().int().min(10).max(1_000_000).default(DEFAULT_DETECTOR_PARAMS.seq_age).describe('Sequence rule: every this many readings all sequence counts are halved (a sequence seen once is forgotten, a frequent one lasts).'),
    seq_long: z.number().int().min(10).max(1_000_000).default(DEFAULT_DETECTOR_PARAMS.seq_long).describe('Sequence rule: readings in the long-run mean and spread of the surprise that the recent surprise is judged against (anomaly-likelihood stage).'),
    seq_z: z.number().positive().default(DEFAULT_DETECTOR_PARAMS.seq_z).describe('Sequence rule: the recent surprise (share of contexts that did not predict the level, averaged over about 10 readings) must be this many spreads above its long-run mean...'),
    seq_share: z.number().gt(0).max(1).default(DEFAULT_DETECTOR_PARAMS.seq_share).describe('...and at least this share: most recent levels unpredicted, not one odd reading.'),
    cal_z: z.number().nonnegative().default(DEFAULT_DETECTOR_PARAMS.cal_z).describe('Calibration (anomaly-likelihood stage on the raw score): an alert also needs the largest rule score to stand this many spreads above its long-run mean for this stream, so a stream whose rules often come close to firing needs stronger evidence (0: off).'),
    cal_long: z.number().int().min(10).max(1_000_000).default(DEFAULT_DETECTOR_PARAMS.cal_long).describe('Calibration: readings in the long-run mean and spread of the raw score.'),
    shape_block: durationSchema.refine((ms) => ms > 0, { message: 'shape_block must be positive' }).default(DEFAULT_DETECTOR_PARAMS.shape_block).describe('Shape rule: time a block of readings covers (default 50m; a slower series has one reading a block); the rule judges the shape of the last 8 blocks.'),
    shape_span: z.number().positive().default(DEFAULT_DETECTOR_PARAMS.shape_span).describe('Shape rule: block values are placed on levels spanning their baseline ± this / 2 typical deviations.'),
    shape_categories: z.number().int().min(4).max(256).default(DEFAULT_DETECTOR_PARAMS.shape_categories).describe('Shape rule: most shapes remembered (32 bytes each); the least recently seen is replaced.'),
    shape_margin: z.number().gt(0).max(1).default(DEFAULT_DETECTOR_PARAMS.shape_margin).describe('Shape rule: a shape that matches nothing is an anomaly when its best match is below this fraction of the lower vigilance (smaller: fewer alerts).'),
    shape_quiet: z.number().int().min(104).max(100_000).default(DEFAULT_DETECTOR_PARAMS.shape_quiet).describe('Shape rule: blocks before new shapes are reported (the first 104 learn the shapes and the vigilances; later ones move the vigilances without reporting).'),
    shape_snap: z.number().nonnegative().default(DEFAULT_DETECTOR_PARAMS.shape_snap).describe('Shape rule: block values within this many typical deviations of their baseline are placed on it (noise around the baseline is no shape).'),
    shape_floor: z.number().nonnegative().default(DEFAULT_DETECTOR_PARAMS.shape_floor).describe('Shape rule: a window spanning less than this many typical deviations has its shape pulled towards flat in proportion: a small wiggle is no shape (0: never, as ARTime).'),
    shape_vigilance_min: z.number().min(0).max(1).default(DEFAULT_DETECTOR_PARAMS.shape_vigilance_min).describe('Shape rule: the lower vigilance, which follows the matches seen, never falls below this, so a stream whose shapes all look alike does not stop seeing new ones (0: no bound, as ARTime).'),
    joint_share: z.number().gt(0).max(1).default(DEFAULT_DETECTOR_PARAMS.joint_share).describe('Joint rule: when no rule reaches its limit, a seasonal statistic (season or season_shift) and a local one (range, spike or sequence) that both reach this share of their limits make the reading anomalous: two independent views, each half convinced.'),
    rules: z.array(z.enum(['range', 'spike', 'flat', 'season', 'sequence', 'shape', 'joint'])).min(1).default([...DEFAULT_DETECTOR_PARAMS.rules]).describe('Rules switched on.'),
    time_ref: durationSchema.refine((ms) => ms > 0, { message: 'time_ref must be positive' }).default(DEFAULT_DETECTOR_PARAMS.time_ref).describe('Reference interval (default 5m): `range_relax` and `decay` are per reading at this interval or slower; on faster series they are scaled down with the observed interval so the memories last the same time rather than the same number of readings.'),
    timezone: z
      .string()
      .refine(isTimeZone, { error: (iss) => `unknown time zone ${JSON.stringify(iss.input)}: give an IANA name such as Europe/Berlin or America/New_York (this platform's list: Intl.supportedValuesOf('timeZone'))` })
      .optional()
      .describe('IANA time zone (e.g. Europe/Berlin) whose wall-clock time places a reading in its day and week (the season rule, the lasting daily steps). Default: UTC. Set it for streams that follow people — offices, traffic, shops, web use —, whose daily pattern otherwise moves an hour against UTC timestamps at each daylight-saving change (about one false alert that day, more on sharp daily edges; docs/detectors.md).'),
    slow_records: z.enum(['per_reading', 'per_time']).default(DEFAULT_DETECTOR_PARAMS.slow_records).describe('Records (spike, flat, season) on series slower than `time_ref`: decayed by `decay` per reading (`per_reading`), or per `time_ref` of time (`per_time`: an hourly series forgets its largest step in weeks, not a year). Default `per_reading`: `per_time` did not pass the leave-one-corpus-out check (docs/backtest.md).'),
  });
}

export type DefaultSpec = z.output<ReturnType<typeof schema>>;

const paramsOf = perStep((spec: DefaultSpec): DefaultParams => ({ ...spec, periods: [...spec.periods], rules: [...spec.rules] }));

export const defaultPlugin: DetectorPlugin<DefaultSpec> = {
  type: 'detector',
  kind: 'default',
  description: 'The default detector for a series of unknown kind: range, spike, flat, season, sequence, shape and joint rules judged against the stream\'s own history.',
  schema,
  // One params object per step (its spec), shared by every key's detector: they only read it.
  create: (spec) => new DefaultDetector(paramsOf(spec)),
  // 200 readings are 17 h at 5 minutes but 8 days at hourly steps: after 6 h only a strong new event
  // (score 0.7: 2.3× its limit) ends the cooldown early, so bursts a day apart are each raised (issue 12).
  // Likewise the clear: 10 normal readings, or an hour of them (10 readings are 10 hours at hourly steps).
  alertDefaults: { clear_readings: 10, clear_readings_within: 3_600_000, cooldown_readings: 200, cooldown_readings_within: 6 * 3_600_000, cooldown_readings_score: 0.7 },
  sample: `
detector: default
rules: [range, spike, flat, season, sequence, shape, joint]
`,
};
