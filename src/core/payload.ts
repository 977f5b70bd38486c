import type { Emission } from './records.js';

/**
 * The upstream payload contract (schema version 1): how an emission is encoded. The zod schemas
 * of the contract, the source of docs/schemas/, are in payload-schema.ts (kept out of the runtime).
 */
export const PAYLOAD_SCHEMA_VERSION = 1;

/** The kinds that travel upstream, as they appear in topics and payloads. */
export type UpstreamKind = 'reading' | 'aggregate' | 'alert' | 'late';

function fin(v: number | undefined): number | null {
  return v === undefined || Number.isFinite(v) ? (v ?? null) : null;
}

/** The upstream kind and stream of an emission. */
export function upstreamKindOf(e: Emission): { kind: UpstreamKind; stream: string } {
  switch (e.kind) {
    case 'reading':
      return { kind: 'reading', stream: e.reading.stream };
    case 'late':
      return { kind: 'late', stream: e.reading.stream };
    case 'aggregate':
      return { kind: 'aggregate', stream: e.result.stream };
    case 'alert':
      return { kind: 'alert', stream: e.alert.stream };
  }
}

/** The kind-specific body of a payload. */
function bodyOf(e: Emission): unknown {
  switch (e.kind) {
    case 'reading':
    case 'late': {
      const r = e.reading;
      const d: Record<string, unknown> = { ts: r.ts, value: fin(r.value) };
      if (r.fields) d.fields = r.fields;
      if (r.tags) d.tags = r.tags;
      if (e.kind === 'late') d.watermark = e.watermark;
      return d;
    }
    case 'aggregate': {
      const w = e.result;
      const values: Record<string, number | null> = {};
      for (const k in w.values) values[k] = fin(w.values[k]);
      const d: Record<string, unknown> = { window: w.window, start: w.start, end: w.end, count: w.count, values };
      if (w.partial !== undefined) d.partial = w.partial;
      return d;
    }
    case 'alert': {
      const a = e.alert;
      const d: Record<string, unknown> = {
        alert_id: a.id,
        state: a.state,
        detector: a.detector,
        severity: a.severity,
        score: fin(a.score),
        start: a.start,
        value: fin(a.value),
      };
      if (a.end !== undefined) d.end = a.end;
      if (a.judged !== undefined) d.judged = a.judged;
      if (a.baseline !== undefined) d.baseline = fin(a.baseline);
      if (a.reason !== undefined) d.reason = a.reason;
      return d;
    }
  }
}

/** Serialise one emission to its upstream payload (UTF-8 JSON). Pure. */
export function encodePayload(
  e: Emission,
  env: { gateway: string; id: string; epoch: string; seq: number; emitted: number },
  kindStream: { kind: UpstreamKind; stream: string } = upstreamKindOf(e),
): Buffer {
  const p = {
    schema: PAYLOAD_SCHEMA_VERSION,
    gateway: env.gateway,
    id: env.id,
    epoch: env.epoch,
    seq: env.seq,
    kind: kindStream.kind,
    stream: kindStream.stream,
    pipeline: e.pipeline,
    output: e.output,
    emitted: env.emitted,
    data: bodyOf(e),
  };
  return Buffer.from(JSON.stringify(p));
}

/** Replace characters MQTT forbids in a published topic level (+ # NUL) with `_`. */
export function topicSafe(s: string): string {
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is refused on purpose (not allowed in MQTT topics)
  return /[+#\u0000]/.test(s) ? s.replace(/[+#\u0000]/g, '_') : s;
}

export function messageTopic(prefix: string, gateway: string, kind: UpstreamKind, stream: string): string {
  return `${prefix}/${topicSafe(gateway)}/${kind}/${topicSafe(stream)}`;
}

export function statusTopic(prefix: string, gateway: string): string {
  return `${prefix}/${topicSafe(gateway)}/status`;
}
