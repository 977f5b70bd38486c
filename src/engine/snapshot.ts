/**
 * Checkpoint shapes of a pipeline. A pipeline's state is saved as parts, one per stateful
 * operator (the key registry, the window step, each detect step, each operator step), each with
 * its own format version, so that a part that cannot be restored (a changed step, a newer
 * format, a damaged value) costs only that operator its state.
 */

/** One operator's saved state. `data` is plain, structured-clone-safe data (Infinity and NaN kept). */
export interface PartSnapshot {
  version: number;
  data: unknown;
}

export interface PipelineSnapshot {
  pipeline: string;
  /** Part name (`keys`, `window`, `detect:<name>`, `operator:<name>`) → saved state. */
  parts: Record<string, PartSnapshot>;
}

/** A part that could not be restored: its operator starts fresh. */
export interface RestoreFailure {
  pipeline: string;
  part: string;
  version: number;
  error: string;
}

/** Format versions of the parts this build writes and reads. */
export const PART_VERSIONS = { keys: 1, window: 1, detect: 1, operator: 1 } as const;

export function partKind(part: string): keyof typeof PART_VERSIONS | undefined {
  const kind = part.includes(':') ? part.slice(0, part.indexOf(':')) : part;
  return kind in PART_VERSIONS ? (kind as keyof typeof PART_VERSIONS) : undefined;
}

/**
 * detector-state.json (before checkpoints lived in the outbox database) held, per pipeline,
 * `keys: { <stream>: { <detect step>: state } }` and `operators: { <name>: state }`.
 */
export interface LegacyPipelineState {
  pipeline: string;
  keys: Record<string, Record<string, unknown>>;
  operators?: Record<string, unknown>;
}

/** Convert one pipeline of detector-state.json into parts (detect steps and operators, version 1). */
export function fromLegacy(old: LegacyPipelineState): PipelineSnapshot {
  const parts: Record<string, PartSnapshot> = {};
  const byStep = new Map<string, Array<[string, unknown]>>();
  for (const [stream, entry] of Object.entries(old.keys ?? {})) {
    for (const [step, st] of Object.entries(entry)) {
      let l = byStep.get(step);
      if (!l) byStep.set(step, (l = []));
      l.push([stream, st]);
    }
  }
  for (const [step, list] of byStep) parts[`detect:${step}`] = { version: 1, data: list };
  for (const [name, st] of Object.entries(old.operators ?? {})) parts[`operator:${name}`] = { version: 1, data: st };
  return { pipeline: old.pipeline, parts };
}
