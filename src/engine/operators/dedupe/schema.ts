/** The `dedupe` step's config schema (the operator is in dedupe.ts). */
import type { z } from 'zod';
import type { SchemaKit } from '../../../core/plugin.js';

export function dedupeStepSchema({ z }: SchemaKit) {
  return z.strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/).default('dedupe').describe('Name in saved state and in the step counters.'),
    readings: z.number().int().min(1).max(64).default(8).describe('How many of a stream\'s last readings a new one is compared with: a resend that comes after newer readings of the stream (an MQTT QoS 1 resend after a reconnect) is still found within this many.'),
  });
}

export type DedupeStepSpec = z.output<ReturnType<typeof dedupeStepSchema>>;
