/** An operator step's plugin declaration (see src/core/plugin.ts for what every declaration has). */
import type { z } from 'zod';
import type { Declared, SchemaKit } from '../core/plugin.js';
import type { EngineOperator } from './pipeline.js';

/** An operator step kind: steps with the key `<kind>` (e.g. `news2:`). */
export interface OperatorPlugin<S = unknown> extends Declared {
  readonly type: 'operator';
  schema(k: SchemaKit): z.ZodType;
  /** One operator instance for one pipeline, from the validated step. */
  compile(spec: S): EngineOperator;
}
