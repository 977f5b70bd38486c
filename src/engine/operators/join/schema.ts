/** The `join` step's config schema (the operator is in join.ts). */
import type { z } from 'zod';
import type { SchemaKit } from '../../../core/plugin.js';

export function joinStepSchema({ z }: SchemaKit) {
  const fieldRef = z.string().regex(/^[^/.]+\.[^/.]+$/, 'expected `<metric>.<aggregate>`, e.g. vibration_rms.rms');
  const fieldName = z.string().regex(/^[a-z][a-z0-9_]*$/, 'expected a field name of lower-case letters, digits or _');

  return z
    .strictObject({
      name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/).default('join').describe('Name in saved state.'),
      metric: z.string().regex(/^[^/]+$/, 'expected a metric name without "/"').describe('Metric of the joined results: `<device>/<metric>`.'),
      fields: z.record(fieldName, fieldRef).refine((f) => Object.keys(f).length > 0, { message: 'name at least one field' }).describe('Output field ← `<metric>.<aggregate>` of a window result of the same device and window.'),
      ratios: z.record(fieldName, z.tuple([fieldName, fieldName])).optional().describe('Output field ← [numerator, denominator], both names from `fields` (e.g. crest factor = [peak, rms]).'),
      pass: z.boolean().default(true).describe('Pass the input results on too (false: only the joined results go on).'),
      max_devices: z.number().int().positive().max(1_000_000).default(10_000).describe('Most devices with a pending join; results of further devices are counted (`join_device_limit`) and not joined.'),
    })
    .superRefine((s, ctx) => {
      for (const [k, [a, b]] of Object.entries(s.ratios ?? {})) {
        for (const f of [a, b]) if (!(f in s.fields)) ctx.addIssue({ code: 'custom', path: ['ratios', k], message: `ratio ${k}: "${f}" is not one of fields (${Object.keys(s.fields).join(', ')})` });
        if (k in s.fields) ctx.addIssue({ code: 'custom', path: ['ratios', k], message: `ratio ${k} has the name of a field` });
      }
    });
}

export type JoinStepSpec = z.output<ReturnType<typeof joinStepSchema>>;
