/**
 * Compact uplinks: several outbox records in one MQTT publish, optionally compressed.
 *
 * A batch payload is one JSON document, `{"schema":1,"gateway":"<id>","records":[<payload>, …]}`,
 * where every record is the record's own schema-1 payload, byte for byte as it would be sent alone
 * (with its `id`, `epoch`, `seq`, `kind` and `stream`). It is published on
 * `<prefix>/<gateway>/batch` (plain JSON) or `<prefix>/<gateway>/batch/<compression>` (the same
 * document compressed with gzip, deflate = zlib/RFC 1950, or brotli), so consumers of the one-by-one
 * topics never see it. See docs/upstream.md.
 */
import zlib from 'node:zlib';
import { PAYLOAD_SCHEMA_VERSION, topicSafe } from '../core/payload.js';

/** How a batch payload is compressed; also its topic's last level (none: no level). */
export const COMPRESSIONS = ['none', 'gzip', 'deflate', 'brotli'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/** The topic level that marks a batch. */
export const BATCH_LEVEL = 'batch';

/** Brotli's default quality (11) costs ~50× gzip's CPU for a few % more; 5 is about gzip's cost. */
const BROTLI_QUALITY = 5;

export function batchTopic(prefix: string, gateway: string, compression: Compression): string {
  const base = `${prefix}/${topicSafe(gateway)}/${BATCH_LEVEL}`;
  return compression === 'none' ? base : `${base}/${compression}`;
}

/** The topic-level compression names, or undefined when `level` is none of them. */
export function compressionOfLevel(level: string | undefined): Compression | undefined {
  if (level === undefined) return 'none';
  return level !== 'none' && (COMPRESSIONS as readonly string[]).includes(level) ? (level as Compression) : undefined;
}

/** Bytes of the JSON document that `records` make, before compression (what `max_bytes` bounds). */
export function batchJsonBytes(gateway: string, payloadBytes: number, records: number): number {
  return batchHead(gateway).length + payloadBytes + Math.max(0, records - 1) + 2;
}

function batchHead(gateway: string): Buffer {
  return Buffer.from(`{"schema":${PAYLOAD_SCHEMA_VERSION},"gateway":${JSON.stringify(gateway)},"records":[`);
}

const COMMA = Buffer.from(',');
const TAIL = Buffer.from(']}');

/** The batch payload of `payloads` (each a schema-1 JSON payload), compressed. Pure. */
export function encodeBatch(gateway: string, payloads: readonly Buffer[], compression: Compression): Buffer {
  const parts: Buffer[] = [batchHead(gateway)];
  payloads.forEach((p, i) => {
    if (i) parts.push(COMMA);
    parts.push(p);
  });
  parts.push(TAIL);
  return compress(Buffer.concat(parts), compression);
}

function compress(json: Buffer, compression: Compression): Buffer {
  switch (compression) {
    case 'none':
      return json;
    case 'gzip':
      return zlib.gzipSync(json);
    case 'deflate':
      return zlib.deflateSync(json);
    case 'brotli':
      return zlib.brotliCompressSync(json, {
        params: { [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: json.length },
      });
  }
}

/**
 * The JSON bytes of a compressed batch. Throws (with what went wrong) on a corrupt body or one
 * that would inflate beyond `maxBytes` (a decompression bomb must not exhaust the consumer's memory).
 */
function decompress(body: Buffer, compression: Compression, maxBytes: number): Buffer {
  const opts = { maxOutputLength: maxBytes };
  try {
    switch (compression) {
      case 'none':
        if (body.length > maxBytes) throw new RangeError('too large');
        return body;
      case 'gzip':
        return zlib.gunzipSync(body, opts);
      case 'deflate':
        return zlib.inflateSync(body, opts);
      case 'brotli':
        return zlib.brotliDecompressSync(body, opts);
    }
  } catch (err) {
    if (err instanceof RangeError || (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new Error(`${compression} batch inflates beyond ${maxBytes} bytes (the consumer's limit)`);
    throw new Error(`not valid ${compression} data: ${(err as Error).message}`);
  }
}

/** A batch as a consumer reads it: the gateway and its records (each a schema-1 payload, not yet validated). */
export interface BatchBody {
  gateway: string;
  records: unknown[];
}

/** Decompress and parse a batch payload. Throws with what is wrong (corrupt, too large, not a batch document). */
export function readBatch(body: Buffer, compression: Compression, maxBytes: number): BatchBody {
  const json = decompress(body, compression, maxBytes);
  let doc: unknown;
  try {
    doc = JSON.parse(json.toString('utf8'));
  } catch (err) {
    throw new Error(`batch is not JSON: ${(err as Error).message}`);
  }
  const d = doc as Partial<BatchBody> & { schema?: unknown };
  if (typeof d !== 'object' || d === null || d.schema !== PAYLOAD_SCHEMA_VERSION || typeof d.gateway !== 'string' || !Array.isArray(d.records))
    throw new Error(`not a batch document: expected {"schema":${PAYLOAD_SCHEMA_VERSION},"gateway":"…","records":[…]}`);
  return { gateway: d.gateway, records: d.records };
}
