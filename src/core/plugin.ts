/**
 * Plugins: a driver, a detector or an operator step kind, each declared once, in its own folder
 * (its `plugin.ts`): kind, config schema, factory, docs text and a sample config. This file holds
 * what every declaration has and the driver declaration; a detector's is in src/detectors/types.ts
 * and an operator's in src/engine/operator-plugin.ts, beside what they create (so the folders do
 * not import each other back). The composition root (src/plugins.ts) lists the built-in
 * declarations in one `PluginSet` (src/plugin-set.ts); the config loader builds schemas and docs
 * from it, the gateway creates drivers from it, and the pipeline compiler (src/compile.ts) builds
 * detect and operator steps from it.
 *
 * Nothing here loads the schema library: a schema is a function of the kit that the config loader
 * passes in (src/config/schema-kit.ts), so the running gateway can load every declaration.
 */
import type { z } from 'zod';
import type { Driver, DriverDeps } from './driver.js';
import type { byteSizeSchema, durationSchema } from './units.js';

/** What a plugin's config schema is built from: the config loader passes it in (src/config/schema-kit.ts). */
export interface SchemaKit {
  z: typeof z;
  durationSchema: typeof durationSchema;
  byteSizeSchema: typeof byteSizeSchema;
}

/** What every plugin declaration has. */
export interface Declared {
  /** The name a config uses: `inputs[].type` for a driver, `detector:` for a detector, the step key for an operator. */
  readonly kind: string;
  /** One line for docs and the JSON Schema. */
  readonly description: string;
  /** More text for the reference docs (Markdown), when one line is not enough. */
  readonly docs?: string;
  /** A sample config (YAML) that validates: shown in the docs and checked by a test. */
  readonly sample: string;
}

/** The object schema a plugin declares: its own fields (any shape, strict or not), typed by the plugin. */
export type PluginObjectSchema = z.ZodObject<Record<never, z.ZodType>, z.core.$ZodObjectConfig>;

/** A driver kind: `inputs[]` entries with `type: <kind>`. */
export interface DriverPlugin<C = unknown> extends Declared {
  readonly type: 'driver';
  /** The driver's own settings (without `type`, `name` and `enabled`, which every input has). */
  schema(k: SchemaKit): PluginObjectSchema;
  /** A driver from validated settings. */
  create(name: string, config: C, deps: DriverDeps): Driver;
}
