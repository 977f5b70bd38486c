/**
 * Registers the generic operator step kinds that ship with the engine (no domain code):
 * - `join`: the window results of several metrics of one device and window → one result, with ratios.
 * Import once for its side effect (src/cli/plugins.ts does). Their config schemas register
 * separately (src/config/plugins.ts), so the runtime does not load zod.
 */
import { registerOperatorCompiler } from '../pipeline.js';
import { compileJoinStep, type JoinStepSpec } from './join.js';

registerOperatorCompiler('join', (spec) => compileJoinStep(spec as JoinStepSpec));

export { compileJoinStep, JoinOperator } from './join.js';
export type { JoinStepSpec } from './join.js';
