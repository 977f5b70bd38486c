/**
 * Plugins: a driver, a detector or an operator step kind, each declared once, in its own folder
 * (its `plugin.ts`): kind, config schema, factory, docs text and a sample config. The composition
 * root (src/plugins.ts) lists the built-in declarations in one `PluginSet`; the config loader builds
 * schemas and docs from it, the gateway creates drivers from it, and the pipeline compiler
 * (src/compile.ts) builds detect and operator steps from it.
 *
 * Nothing here loads the schema library: a schema is a function of the kit that the config loader
 * passes in (src/config/schema-kit.ts), so the running gateway can load every declaration.
 */
import type { z } from 'zod';
import type { DetectorSchemaKit } from '../detectors/schema.js';
import type { Detector } from '../detectors/types.js';
import type { EngineOperator } from '../engine/pipeline.js';
import type { Driver, DriverDeps } from './driver.js';
import type { byteSizeSchema, durationSchema } from './units.js';

/** What a plugin's config schema is built from: the config loader passes it in (src/config/schema-kit.ts). */
export interface SchemaKit {
  z: typeof z;
  durationSchema: typeof durationSchema;
  byteSizeSchema: typeof byteSizeSchema;
}

interface Declared {
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

/** A detector kind: `detect` steps with `detector: <kind>`. */
export interface DetectorPlugin<S = unknown> extends Declared {
  readonly type: 'detector';
  /**
   * The whole `detect` step for this kind: `k.detectStep(kind, fields)` adds `detector: <kind>` and
   * the fields every detect step has (`name`, `field`, `alert`, `output`); refine it as needed.
   */
  schema(k: DetectorSchemaKit): z.ZodType;
  /** One detector (one key's state) from a validated step. */
  create(spec: S): Detector;
  /** Alert lifecycle defaults other than the usual ones (e.g. a detector that flickers clears slower). */
  readonly alertDefaults?: { clear_readings?: number; cooldown_readings?: number };
}

/** An operator step kind: steps with the key `<kind>` (e.g. `news2:`). */
export interface OperatorPlugin<S = unknown> extends Declared {
  readonly type: 'operator';
  schema(k: SchemaKit): z.ZodType;
  /** One operator instance for one pipeline, from the validated step. */
  compile(spec: S): EngineOperator;
}

export type Plugin = DriverPlugin | DetectorPlugin | OperatorPlugin;

/** Step keys the engine has itself (and `streams`, a step's selector): no operator may take them. */
export const RESERVED_STEP_KEYS: readonly string[] = ['filter', 'map', 'window', 'detect', 'output', 'streams'];

/** The plugins of one build, by kind. A kind declared twice (per plugin type) throws. */
export class PluginSet {
  private readonly byType = {
    driver: new Map<string, DriverPlugin>(),
    detector: new Map<string, DetectorPlugin>(),
    operator: new Map<string, OperatorPlugin>(),
  };

  constructor(plugins: readonly Plugin[]) {
    for (const p of plugins) {
      const map = this.byType[p.type] as Map<string, Plugin>;
      if (!map) throw new Error(`plugin "${p.kind}": unknown plugin type "${String(p.type)}" (expected driver, detector or operator)`);
      if (map.has(p.kind)) throw new Error(`${p.type} kind "${p.kind}" is declared twice: each kind must be listed once in the plugin set (src/plugins.ts)`);
      if (p.type === 'operator' && RESERVED_STEP_KEYS.includes(p.kind)) throw new Error(`operator kind "${p.kind}" is a built-in step key; pick another name`);
      map.set(p.kind, p);
    }
  }

  /** A new set with more plugins (an embedding program or a test adding its own). */
  with(...more: Plugin[]): PluginSet {
    return new PluginSet([...this.all(), ...more]);
  }

  all(): Plugin[] {
    return [...this.byType.driver.values(), ...this.byType.detector.values(), ...this.byType.operator.values()];
  }

  drivers(): DriverPlugin[] {
    return [...this.byType.driver.values()];
  }
  detectors(): DetectorPlugin[] {
    return [...this.byType.detector.values()];
  }
  operators(): OperatorPlugin[] {
    return [...this.byType.operator.values()];
  }
  driver(kind: string): DriverPlugin | undefined {
    return this.byType.driver.get(kind);
  }
  detector(kind: string): DetectorPlugin | undefined {
    return this.byType.detector.get(kind);
  }
  operator(kind: string): OperatorPlugin | undefined {
    return this.byType.operator.get(kind);
  }
}
