/**
 * What a plugin's config schema is built from. Plugins declare their schema as a function of this
 * kit (`schema: (k) => k.z.strictObject({...})`) and import zod for types only, so a plugin's
 * declaration (src/plugins.ts lists them) can be loaded by the running gateway without loading the
 * schema library: only the config loader, which passes the kit in, runs those functions.
 */
import { z } from 'zod';
import type { SchemaKit } from '../core/plugin.js';
import { byteSizeSchema, durationSchema } from '../core/units.js';

export const schemaKit: SchemaKit = { z, durationSchema, byteSizeSchema };
