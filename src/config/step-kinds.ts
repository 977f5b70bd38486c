/**
 * The step kinds built into the engine. Any other key of a step (but `streams`, its selector) is
 * an operator kind registered by a module. Kept free of zod: the engine reads it at runtime.
 */
export const BUILT_IN_STEP_KINDS = ['filter', 'map', 'window', 'detect', 'output'] as const;
