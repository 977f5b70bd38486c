import { z } from 'zod';
import { PAYLOAD_SCHEMA_VERSION } from '../core/payload.js';

/**
 * The upstream payload contract (schema version 1) as zod schemas: the source of the JSON Schema
 * files in docs/schemas/ (regenerate with `npx tsx src/upstream/write-schemas.ts`) and what the
 * tests check payloads against. The encoder is in payload.ts.
 */
const num = z.number().describe('A number; non-finite values are sent as null.').nullable();
const tags = z.record(z.string(), z.string());
const fields = z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()]));

const envelope = {
  schema: z.literal(PAYLOAD_SCHEMA_VERSION).describe('Payload schema version.'),
  gateway: z.string().describe('Gateway id.'),
  id: z
    .string()
    .describe(
      'Message id: says what the record is (pipeline/output/kind/stream@time, see docs/upstream.md), unique per gateway, the same on every resend and when the gateway recomputes the record after a crash. Drop duplicates by (gateway, id); two messages with one id are the same record.',
    ),
  epoch: z
    .string()
    .describe('Outbox epoch: changes when the gateway starts a new outbox file (first start, or after a corrupt file was moved aside); seq restarts at 1.'),
  seq: z
    .number()
    .int()
    .min(1)
    .describe('Sequence number per (gateway, epoch, topic), gap-free as produced: a gap means the outbox dropped messages (counted on the gateway).'),
  stream: z.string().describe('Stream key "<device>/<metric>".'),
  pipeline: z.string().describe('Pipeline that produced it.'),
  output: z.string().describe("The pipeline's output name."),
  emitted: z.number().int().describe('Gateway wall-clock time the message was put in the outbox (ms since epoch, UTC).'),
};

const readingBody = z
  .strictObject({
    ts: z.number().describe('Event time (ms since epoch, UTC).'),
    value: num,
    fields: fields.optional(),
    tags: tags.optional(),
  })
  .describe('A raw reading.');

const readingPayloadSchema = z
  .strictObject({ ...envelope, kind: z.literal('reading'), data: readingBody })
  .describe('Edgewise upstream payload: a raw reading.');

const latePayloadSchema = z
  .strictObject({
    ...envelope,
    kind: z.literal('late'),
    data: readingBody.extend({ watermark: z.number().describe('The watermark the reading was late against (ms).') }).strict(),
  })
  .describe('Edgewise upstream payload: a reading that arrived later than the allowed lateness.');

const aggregatePayloadSchema = z
  .strictObject({
    ...envelope,
    kind: z.literal('aggregate'),
    data: z
      .strictObject({
        window: z.string().describe('Window kind: tumbling, hopping, sliding, session, count.'),
        start: z.number().describe('Window start (inclusive), event time ms.'),
        end: z.number().describe('Window end (exclusive), event time ms.'),
        count: z.number().int().min(0).describe('Readings in the window.'),
        values: z.record(z.string(), num).describe('Aggregate name → value, e.g. {"mean": 20.1, "p95": 23.4}.'),
        partial: z.boolean().optional().describe('True when the window closed early.'),
      })
      .describe('One window result.'),
  })
  .describe('Edgewise upstream payload: a window aggregate.');

const alertPayloadSchema = z
  .strictObject({
    ...envelope,
    kind: z.literal('alert'),
    data: z
      .strictObject({
        alert_id: z.string().describe('Stable for the whole life of the alert (raised … cleared).'),
        state: z.enum(['raised', 'active', 'cleared']),
        detector: z.string(),
        severity: z.enum(['info', 'warning', 'critical']),
        score: num.describe('Score in [0, 1].'),
        start: z.number().describe('Event time the alert was raised (ms).'),
        end: z.number().optional().describe('Event time it cleared (ms), on cleared only.'),
        judged: z.number().optional().describe('Event time it was judged, when later than start: raised once what it needed was known (a harsh brake judged when the vehicle\'s forward axis was learnt). Absent: judged as it happened.'),
        value: num.describe('The value judged at this event.'),
        baseline: num.optional().describe("The detector's expected value, when it has one."),
        reason: z.string().optional().describe('Which rule fired, in words.'),
      })
      .describe('One event in an alert life.'),
  })
  .describe('Edgewise upstream payload: an alert event.');

const statusPayloadSchema = z
  .strictObject({
    schema: z.literal(PAYLOAD_SCHEMA_VERSION),
    gateway: z.string(),
    state: z.enum(['online', 'offline']).describe('online: birth message after connect. offline: Last Will, or a clean shutdown.'),
    since: z.number().int().optional().describe('Wall-clock time of this state (ms), when known (absent on the Last Will).'),
    instance: z
      .string()
      .optional()
      .describe('Random id of the gateway process (new at each start): two instances at once under one gateway id are two gateways sharing an id.'),
  })
  .describe('Edgewise gateway status (retained) on <prefix>/<gateway>/status.');

const counts = z.record(z.string(), z.number().int().nonnegative());

export const statsPayloadSchema = z
  .object({
    schema: z.literal(PAYLOAD_SCHEMA_VERSION),
    gateway: z.string(),
    time: z.number().int().describe('Gateway wall-clock time of these numbers (ms).'),
    uptime_s: z.number().int().nonnegative().describe('Seconds since the gateway started.'),
    interval_s: z.number().nonnegative().describe('Seconds since the previous stats message (the span of the rates).'),
    readings: z.number().int().nonnegative().describe('Readings since start.'),
    readings_per_s: z.number().nonnegative().describe('Readings per second over the interval.'),
    unrouted: z.number().int().nonnegative().describe('Readings no pipeline takes, since start.'),
    dropped: counts.describe('Drops since start by `<where>.<reason>` (where: input:<name>, pipeline:<name>, outbox).'),
    inputs: z.array(z.object({ name: z.string(), kind: z.string(), state: z.string(), readings: z.number().int().nonnegative() })),
    pipelines: z.array(
      z.object({
        name: z.string(),
        received: z.number().int().nonnegative(),
        accepted: z.number().int().nonnegative(),
        late: z.number().int().nonnegative(),
        filtered: z.number().int().nonnegative(),
        operators: z.record(z.string(), counts).optional().describe("Each operator step's own counters since start, by step name (telematics: events, rebounds, uncalibrated, gaps, remounts, unsettled, stale_speed, invalid, gravity_off, unjudged, judged_late, no_heading, gyro_flipped; news2: scored, incomplete, missing_<parameter>); absent when the pipeline has none."),
        detectors: z
          .array(z.object({ step: z.string(), streams: z.number().int().nonnegative(), learning: z.number().int().nonnegative() }))
          .optional()
          .describe('Each detect step, in chain order: the streams it keeps a detector for, and how many of them are still learning (their detector in its warm-up: no alert can come from them yet). Absent when the pipeline has no detect step (and from gateways before 2026-12-07).'),
      }),
    ),
    alerts_active: counts.describe('Alerts raised and not cleared, by severity.'),
    outbox: z
      .object({ messages: z.number().int().nonnegative(), bytes: z.number().int().nonnegative(), oldest_age_ms: z.number().nonnegative(), dead_letters: z.number().int().nonnegative() })
      .optional()
      .describe('Buffered messages (this one is not among them: stats bypass the outbox).'),
    uplink: z.object({ connects: z.number().int().nonnegative(), reconnects: z.number().int().nonnegative() }).optional(),
    process: z.object({ rss_bytes: z.number().int().nonnegative(), cpu_s: z.number().nonnegative() }),
  })
  .describe('Edgewise gateway health (retained) on <prefix>/<gateway>/stats, every stats_upstream while the uplink is up. Fields may be added: ignore unknown ones.');

const batchPayloadSchema = z
  .strictObject({
    schema: z.literal(PAYLOAD_SCHEMA_VERSION).describe('Payload schema version.'),
    gateway: z.string().describe('Gateway id (every record has the same).'),
    records: z
      .array(z.discriminatedUnion('kind', [aggregatePayloadSchema, alertPayloadSchema, readingPayloadSchema, latePayloadSchema]))
      .min(1)
      .describe(
        'The records, each exactly the payload it would have been alone (its own id, epoch, seq, kind and stream), in the order the gateway sent them: per topic in seq order. Deduplicate by (gateway, id) per record.',
      ),
  })
  .describe(
    'Edgewise upstream batch (only with upstream.batch): several records in one publish on <prefix>/<gateway>/batch (JSON) or <prefix>/<gateway>/batch/<compression> (this document compressed: gzip, deflate = zlib RFC 1950, or brotli).',
  );

export const payloadSchemas = {
  reading: readingPayloadSchema,
  late: latePayloadSchema,
  aggregate: aggregatePayloadSchema,
  alert: alertPayloadSchema,
  status: statusPayloadSchema,
  stats: statsPayloadSchema,
  batch: batchPayloadSchema,
} as const;

export type UpstreamPayload =
  | z.output<typeof readingPayloadSchema>
  | z.output<typeof latePayloadSchema>
  | z.output<typeof aggregatePayloadSchema>
  | z.output<typeof alertPayloadSchema>;

/** JSON Schema (draft 2020-12) for each payload kind, generated from the zod schemas. */
export function payloadJsonSchemas(): Record<keyof typeof payloadSchemas, unknown> {
  const out = {} as Record<keyof typeof payloadSchemas, unknown>;
  for (const [k, s] of Object.entries(payloadSchemas)) {
    out[k as keyof typeof payloadSchemas] = {
      $id: `https://edgewise.dev/schemas/upstream/v${PAYLOAD_SCHEMA_VERSION}/${k}.schema.json`,
      ...z.toJSONSchema(s, { target: 'draft-2020-12' }),
    };
  }
  return out;
}
