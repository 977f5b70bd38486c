import { z } from 'zod';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/;

/** Parse `500ms`, `10s`, `1.5m`, `2h`, `1d` (or a bare number of milliseconds) into milliseconds. */
export function parseDuration(text: string | number): number {
  if (typeof text === 'number') {
    if (!Number.isFinite(text) || text < 0) throw new Error(`expected a duration >= 0, found ${text}`);
    return text;
  }
  const m = DURATION_RE.exec(text);
  if (!m) throw new Error(`expected a duration such as 500ms, 10s, 5m, 1h or 1d, found "${text}"`);
  return Math.round(Number(m[1]) * UNITS[m[2]!]!);
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** A duration in config: `10s`, `5m`, or a number of milliseconds. Parses to milliseconds. */
export const durationSchema = z
  .union([
    z.number().nonnegative(),
    z.string().regex(DURATION_RE, { message: 'expected a duration such as 500ms, 10s, 5m, 1h or 1d' }),
  ])
  .transform((v) => parseDuration(v))
  .meta({ description: 'A duration: a number of milliseconds, or a string such as 500ms, 10s, 5m, 1h, 1d.' });

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2, gb: 1024 ** 3, gib: 1024 ** 3 };
const SIZE_RE = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)\s*$/i;

/** Parse `64MB`, `512KiB`, `1GB` (binary units) or a bare number of bytes. */
export function parseByteSize(text: string | number): number {
  if (typeof text === 'number') return text;
  const m = SIZE_RE.exec(text);
  if (!m) throw new Error(`expected a size such as 512KB, 64MB or 1GB, found "${text}"`);
  return Math.round(Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!);
}

/** A byte size in config: `64MB`, `512KB`, or a number of bytes. Parses to bytes (1 KB = 1024 B). */
export const byteSizeSchema = z
  .union([z.number().int().nonnegative(), z.string().regex(SIZE_RE, { message: 'expected a size such as 512KB, 64MB or 1GB' })])
  .transform((v) => parseByteSize(v))
  .meta({ description: 'A size in bytes: a number, or a string such as 512KB, 64MB, 1GB (1 KB = 1024 bytes).' });
