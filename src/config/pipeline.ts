import { z } from 'zod';
import type { PluginSet } from '../plugin-set.js';
import { detectStepSchema } from '../detectors/schema.js';
import { builtinPlugins } from '../plugins.js';
import { schemaKit } from './schema-kit.js';
import { durationSchema } from '../core/units.js';
import { AGGREGATE_NAMES, CONVERSIONS } from '../engine/spec.js';

export { AGGREGATE_NAMES } from '../engine/spec.js';

const streamPattern = z
  .string()
  .min(1)
  .describe('A stream pattern: `<device>/<metric>` where `*` matches any run of characters except `/`, and `**` matches anything. Examples: `pump-*/vibration`, `*/temperature`, `**`.');

const rangeShape = {
  min: z.number().optional().describe('Lowest value kept (inclusive).'),
  max: z.number().optional().describe('Highest value kept (inclusive).'),
};

const filterStepSchema = z
  .strictObject({
    ...rangeShape,
    field: z.string().default('value').describe('What to test: `value` for readings, or an aggregate name (e.g. `mean`) after a window.'),
    streams: z.array(streamPattern).optional().describe('Keep only streams matching one of these patterns.'),
    exclude_streams: z.array(streamPattern).optional().describe('Drop streams matching one of these patterns.'),
  })
  .describe('Keep what passes, drop (and count as `filtered`) what does not.');

const mapStepSchema = z
  .strictObject({
    convert: z.enum(CONVERSIONS).optional().describe('Unit conversion, applied first.'),
    scale: z.number().default(1).describe('Multiply by this (after convert).'),
    offset: z.number().default(0).describe('Then add this.'),
    clamp: z.strictObject(rangeShape).optional().describe('Then clamp into [min, max].'),
    metric: z.string().regex(/^[^/]+$/, 'expected a metric name without "/"').optional().describe('Rename the metric part of the stream (e.g. after a unit conversion).'),
  })
  .describe('Transform each reading: value → clamp(convert(value) × scale + offset).');

const windowCommon = {
  aggregates: z.array(z.enum(AGGREGATE_NAMES)).min(1).describe('What to compute per window and key.'),
  lateness: durationSchema.default(0).describe('Allowed lateness: how far behind the newest reading of its stream a reading may be and still count. Later readings go to the `late` side output (counted).'),
  idle_timeout: durationSchema.optional().describe('Close the windows of a stream that has delivered nothing for this long by the gateway clock (its arrival times and ticks; other streams\' event times never count). Its windows then close at its own time: its newest event time plus the gateway time since. Not in a replay without arrival times (the end of input closes them). Default: 2 × window size (sessions: 2 × gap), at least 1m.'),
};

/** Checks within one window spec; they sit on the branch so they are reported along with errors elsewhere in the file. */
function positiveSize(w: { size: number }, ctx: z.RefinementCtx): void {
  if (w.size <= 0) ctx.addIssue({ code: 'custom', path: ['size'], message: 'size must be greater than 0' });
}

const windowSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('tumbling'),
    size: durationSchema.describe('Window length; windows are aligned to the epoch: [k·size, (k+1)·size).'),
    ...windowCommon,
  }).superRefine(positiveSize).describe('Fixed, non-overlapping windows.'),
  z.strictObject({
    type: z.literal('hopping'),
    size: durationSchema.describe('Window length.'),
    hop: durationSchema.describe('How often a window starts; a reading is in size/hop windows.'),
    ...windowCommon,
  }).superRefine((w, ctx) => {
    positiveSize(w, ctx);
    if (w.hop > w.size || (w.hop > 0 && w.size % w.hop !== 0) || w.hop === 0) {
      ctx.addIssue({ code: 'custom', path: ['hop'], message: `hop (${w.hop} ms) must divide size (${w.size} ms)` });
    }
  }).describe('Fixed-size overlapping windows that start every `hop`.'),
  z.strictObject({
    type: z.literal('sliding'),
    size: durationSchema.describe('Window length.'),
    resolution: durationSchema.optional().describe('Slide step: a window ends at every multiple of this that follows a reading. Default: size / 10.'),
    ...windowCommon,
  }).superRefine((w, ctx) => {
    positiveSize(w, ctx);
    if (w.resolution !== undefined && (w.resolution === 0 || w.resolution > w.size || w.size % w.resolution !== 0)) {
      ctx.addIssue({ code: 'custom', path: ['resolution'], message: `resolution (${w.resolution} ms) must divide size (${w.size} ms)` });
    }
  }).describe('A window of `size` that ends after each reading (to `resolution`); emits only when there is new data.'),
  z.strictObject({
    type: z.literal('session'),
    gap: durationSchema.describe('A session ends after this long without a reading.'),
    max_duration: durationSchema.optional().describe('Close a session that has lasted this long even if readings keep coming (bounds state).'),
    ...windowCommon,
  }).describe('Activity sessions separated by gaps.'),
  z.strictObject({
    type: z.literal('count'),
    size: z.number().int().positive().max(1_000_000).describe('Readings per window.'),
    slide: z.number().int().positive().optional().describe('Start a new window every `slide` readings (default: size, i.e. non-overlapping). Must divide size.'),
    aggregates: windowCommon.aggregates,
    idle_timeout: windowCommon.idle_timeout.describe('Emit a partial window (marked `partial`) for a stream silent this long. Default: never.'),
  }).superRefine((w, ctx) => {
    if (w.slide !== undefined && (w.slide > w.size || w.size % w.slide !== 0)) {
      ctx.addIssue({ code: 'custom', path: ['slide'], message: `slide (${w.slide}) must divide size (${w.size})` });
    }
  }).describe('Windows of N readings per stream, in arrival order.'),
]);

const outputStepSchema = z
  .union([
    z.string().regex(/^[a-z][a-z0-9_-]*$/, 'expected an output name of lower-case letters, digits, _ or -'),
    z.strictObject({ name: z.string().regex(/^[a-z][a-z0-9_-]*$/) }),
  ])
  .describe('Send what reaches this point to the named output (and pass it on).');

/** The step kinds the engine has itself; any other step key (but `streams`) is an operator plugin's kind. */
const BUILT_IN_STEP_KINDS = ['filter', 'map', 'window', 'detect', 'output'] as const;

function stepSchema(plugins: PluginSet) {
  const allKinds: string[] = [...BUILT_IN_STEP_KINDS, ...plugins.operators().map((o) => o.kind)];
  const operators = Object.fromEntries(plugins.operators().map((o) => [o.kind, o.schema(schemaKit).describe(o.description).optional()]));
  const detect = detectStepSchema(schemaKit, plugins.detectors());
  return z
    .strictObject({
      filter: filterStepSchema.optional(),
      map: mapStepSchema.optional(),
      window: windowSchema.optional().describe('Group readings per stream into windows and compute aggregates; `type` picks the kind (tumbling, hopping, sliding, session, count).'),
      detect: detect.optional().describe('Judge readings or window results with a streaming detector; `detector` picks the kind, whose plugin defines the other fields.'),
      output: outputStepSchema.optional(),
      ...operators,
      streams: z.array(streamPattern).min(1).optional().describe('Apply this step only to streams matching one of these patterns; other readings and results skip it and go on unchanged (not with `window`). Lets one pipeline judge each metric with its own detector.'),
    })
    .superRefine((step, ctx) => {
      const kinds = allKinds.filter((k) => (step as Record<string, unknown>)[k] !== undefined);
      if (kinds.length !== 1) {
        ctx.addIssue({
          code: 'custom',
          message: kinds.length === 0
            ? `a step needs exactly one of ${allKinds.join(', ')}; found none`
            : `a step needs exactly one of ${allKinds.join(', ')}; found ${kinds.join(' and ')} (split them into separate steps)`,
        });
      }
      if (step.streams && step.window) ctx.addIssue({ code: 'custom', path: ['streams'], message: '`streams` cannot select a window step (it windows every stream); put a `filter` before it, or use a second pipeline' });
    })
    .describe(`One step: exactly one of ${allKinds.join(', ')}; optionally \`streams\` to apply it to some streams only.`);
}

/** The pipeline schema (a file in `pipelines/`); detect and operator steps come from the plugins. */
export function pipelineSchema(plugins: PluginSet = builtinPlugins) {
  return z
    .strictObject({
      name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected a name of lower-case letters, digits, _ or -').describe('Pipeline name: in logs, metrics and upstream payloads.'),
      description: z.string().optional().describe('Free text for people: what this pipeline is for.'),
      input: z
        .strictObject({
          streams: z.array(streamPattern).min(1).describe('Which readings this pipeline takes.'),
          max_keys: z.number().int().positive().default(10_000).describe('Most streams (keys) this pipeline tracks; readings of further streams are refused and counted (`key_limit`).'),
          max_future_skew: durationSchema.default(300_000).describe('Refuse (count as `future`) a reading whose event time is further ahead than this of the gateway clock when it arrived (live, from the first reading). A replay (readings without an arrival time) has no gateway clock: there a jump ahead of the stream\'s own newest time is a gap in the recording and is accepted; see `clock_jump`.'),
          time: z.enum(['event', 'ingest']).default('event').describe('Which time windows and detectors use: `event` (the reading\'s own `ts`, from the device or driver) or `ingest` (the gateway clock when the reading arrived) for devices without a trustworthy clock. In a replay, where readings carry no arrival time, `ingest` falls back to `ts`.'),
          idle_timeout: durationSchema.optional().describe('A stream that has delivered nothing for this long (gateway clock) is idle: it no longer holds back operators that combine streams (join, news2). Default: the window\'s `idle_timeout`, else 1m.'),
          forget_after: durationSchema.optional().describe('Forget a device none of whose streams has delivered for this long (the gateway\'s running time: its own downtime does not count): its open windows go out as partial, active alerts of its streams clear (reason `forgotten`), operators drop what they keep for it (a NEWS2 patient, a vehicle, a machine) and its keys are freed for new streams (counted: `forgotten`). For devices that come and go (patients discharged, sensors replaced, trackers of a fleet): without it a pipeline keeps every stream it has seen and, at `max_keys`, refuses new ones. Live only (a replay has no gateway clock). Default: never.'),
          clock_jump: z
            .strictObject({
              threshold: durationSchema.default(3_600_000).describe('A reading whose time differs from its stream\'s newest time by more than this (and more than the window\'s lateness) is a clock jump.'),
              confirm: z.number().int().positive().max(1000).default(5).describe('Replay: after this many readings in a row consistent with the new time after a jump back, the stream is re-based (its open windows are emitted as partial and it starts afresh); at once if another stream of the device is already at that time.'),
            })
            .default({ threshold: 3_600_000, confirm: 5 })
            .describe('How device clock jumps (a reboot to 1970, a GPS week rollover, hours forward or back) are handled, per stream, never touching other streams. Live: a jumped reading is accepted only if its new time agrees (within `threshold`) with the gateway clock (a clock being corrected, e.g. by NTP), re-basing the stream; otherwise it is refused and counted (`clock_jump_back`, `clock_jump_forward`). Replay: a jump forward is a gap in the recording and is accepted; a jump back is refused (`clock_jump_back`) until `confirm` consistent readings re-base the stream (or another stream of the device is already at the new time). Live, a stream that ran more than 30 s (and the window\'s lateness) ahead of the gateway clock and steps back to it is re-based too, however small the step: its device\'s clock was corrected. A stream re-based back is told to every step, which goes on on the new clock.'),
        })
        .describe('What the pipeline takes in.'),
      steps: z.array(stepSchema(plugins)).min(1).describe('Operators, applied in order per key.'),
    })
    .superRefine((p, ctx) => {
      let windows = 0;
      p.steps.forEach((s, i) => {
        if (s.window) {
          windows++;
          if (windows > 1) ctx.addIssue({ code: 'custom', path: ['steps', i, 'window'], message: 'a pipeline has at most one window step; use a second pipeline for a second windowing' });
        }
        if (s.map && windows > 0) ctx.addIssue({ code: 'custom', path: ['steps', i, 'map'], message: 'map works on readings; put it before the window step' });
      });
      checkFieldReferences(p.steps, ctx);
    })
    .describe('An Edgewise pipeline: which readings it takes, how it windows, aggregates and judges them, and where results go.');
}

/**
 * After a window step, records are window results: a `detect` or `filter` field must name one of
 * the window's aggregates (or `count`), else the step would silently judge nothing. Operator steps
 * (join, news2, …) make records of their own, so fields after them are not checked.
 */
function checkFieldReferences(steps: Array<Record<string, unknown>>, ctx: z.RefinementCtx): void {
  let known: Set<string> | undefined; // undefined: readings, or records of an operator (not checked)
  steps.forEach((st, i) => {
    const w = st.window as { aggregates?: string[] } | undefined;
    if (w) {
      known = new Set([...(w.aggregates ?? []), 'count']);
      return;
    }
    const kind = Object.keys(st).find((k) => k !== 'streams' && st[k] !== undefined);
    if (kind === 'detect' || kind === 'filter') {
      const field = (st[kind] as { field?: string }).field;
      if (known && field !== undefined && !known.has(field)) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i, kind, 'field'],
          message: field === 'value'
            ? `this step follows a window, whose results have no "value" (the default field); set \`field:\` to one of the window's aggregates: ${[...known].join(', ')}`
            : `field "${field}" is not computed by the window before this step (it computes ${[...known].join(', ')}); add "${field}" to the window's aggregates or judge one of those`,
        });
      }
    } else if (kind !== 'output' && kind !== 'map') known = undefined;
  });
}

export type PipelineSpec = z.output<ReturnType<typeof pipelineSchema>>;
export type StepSpec = PipelineSpec['steps'][number];
