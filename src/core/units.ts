/** Durations and byte sizes as config fields: zod schemas over the parsers in src/core/duration.ts. */
import { z } from 'zod';
import { DURATION_RE, parseByteSize, parseDuration, SIZE_RE } from './duration.js';

/** A duration in config: `10s`, `5m`, or a number of milliseconds. Parses to milliseconds. */
export const durationSchema = z
  .union([
    z.number().nonnegative(),
    z.string().regex(DURATION_RE, { message: 'expected a duration such as 500ms, 10s, 5m, 1h or 1d' }),
  ])
  .transform((v) => parseDuration(v))
  .meta({ description: 'A duration with its unit: 500ms, 10s, 5m, 1h, 1d (0 needs none). A bare number in a config file is refused: `keepalive: 30` is ambiguous.' });

/** A byte size in config: `64MB`, `512KB`, or a number of bytes. Parses to bytes (1 KB = 1024 B). */
export const byteSizeSchema = z
  .union([z.number().int().nonnegative(), z.string().regex(SIZE_RE, { message: 'expected a size such as 512KB, 64MB or 1GB' })])
  .transform((v) => parseByteSize(v))
  .meta({ description: 'A size in bytes: a number, or a string such as 512KB, 64MB, 1GB (1 KB = 1024 bytes).' });
