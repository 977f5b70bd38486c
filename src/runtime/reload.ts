import { isDeepStrictEqual } from 'node:util';
import { ConfigError, type ConfigIssue } from '../core/config-error.js';
import type { LoadedGateway } from '../config/load.js';
import type { GatewayConfig } from '../config/gateway.js';
import type { PipelineSpec, StepSpec } from '../config/pipeline.js';
import type { Logger } from '../core/log.js';
import type { Pipeline } from '../engine/pipeline.js';
import type { PipelineSnapshot, RestoreFailure } from '../engine/snapshot.js';
import type { ReloadOutcome } from './gateway.js';

/**
 * Hot reload (docs/operations.md#reload): what changes between the running config and pipelines
 * and a new, validated set, and how the pipelines are swapped. The gateway executes the plan
 * (inputs stopped and started, a checkpoint taken right after the swap).
 */

/** A validated config and its pipelines: what a reload swaps in. */
export interface ReloadTarget {
  config: GatewayConfig;
  pipelines: PipelineSpec[];
}

/** One `inputs[]` entry (validated settings of a driver). */
export type InputSettings = { type: string; name: string; enabled?: boolean } & Record<string, unknown>;

/** Settings a running gateway cannot change: the reload is refused and names them. */
const RESTART_ONLY: ReadonlyArray<{ path: [string, ...string[]]; why: string }> = [
  { path: ['gateway', 'id'], why: 'it is in client ids, topics, message ids and the outbox' },
  { path: ['gateway', 'data_dir'], why: 'the outbox database and state are open there' },
  { path: ['log'], why: 'every part holds its logger' },
  { path: ['outbox'], why: 'the outbox database is open with these settings' },
  { path: ['upstream'], why: 'the uplink is connected with these settings' },
  { path: ['state'], why: 'the journal and checkpoints run with these settings' },
  { path: ['http'], why: 'the HTTP server is listening with these settings' },
];

export interface ReloadPlan {
  /** `gateway.id: …` lines for settings that changed and need a restart (the reload is refused). */
  restartRequired: string[];
  pipelines: {
    /** Unchanged: the same object keeps its windows, baselines and alerts. */
    keep: string[];
    /** Changed: rebuilt; `carry` are the parts of its state that still fit the new spec. */
    rebuild: Array<{ spec: PipelineSpec; carry: string[] }>;
    remove: string[];
    add: PipelineSpec[];
  };
  inputs: {
    keep: string[];
    /** Changed settings: stopped, then started with the new ones. */
    restart: InputSettings[];
    stop: string[];
    start: InputSettings[];
  };
}

/** What a reload changed, for the log and the answer of POST /reload. */
export interface ReloadChanges {
  pipelines: { kept: string[]; rebuilt: Array<{ name: string; kept: string[] }>; removed: string[]; added: string[] };
  inputs: { kept: string[]; restarted: string[]; stopped: string[]; started: string[] };
}

function getPath(o: unknown, path: readonly string[]): unknown {
  let v = o;
  for (const k of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** Inputs that run (enabled), by name. */
function runningInputs(c: GatewayConfig): Map<string, InputSettings> {
  return new Map((c.inputs as InputSettings[]).filter((i) => i.enabled !== false).map((i) => [i.name, i]));
}

/** Compare the running config and pipelines with a new set: what to keep, rebuild, remove, add; inputs to keep, restart, stop, start. */
export function planReload(cur: ReloadTarget, next: ReloadTarget): ReloadPlan {
  const restartRequired: string[] = [];
  for (const { path, why } of RESTART_ONLY) {
    if (isDeepStrictEqual(getPath(cur.config, path), getPath(next.config, path))) continue;
    const name = path.join('.');
    // Values only for the two plain ones: sections may hold passwords and tokens.
    const values = path[0] === 'gateway' ? ` (${JSON.stringify(getPath(cur.config, path))} → ${JSON.stringify(getPath(next.config, path))})` : '';
    restartRequired.push(`${name} changed${values}: it cannot change while running (${why}); restart edgewise to apply it`);
  }
  const curPipes = new Map(cur.pipelines.map((s) => [s.name, s]));
  const nextNames = new Set(next.pipelines.map((s) => s.name));
  const pipelines: ReloadPlan['pipelines'] = { keep: [], rebuild: [], remove: cur.pipelines.filter((s) => !nextNames.has(s.name)).map((s) => s.name), add: [] };
  for (const spec of next.pipelines) {
    const old = curPipes.get(spec.name);
    if (!old) pipelines.add.push(spec);
    else if (isDeepStrictEqual(old, spec)) pipelines.keep.push(spec.name);
    else pipelines.rebuild.push({ spec, carry: carriedParts(old, spec) });
  }
  const curIn = runningInputs(cur.config);
  const nextIn = runningInputs(next.config);
  const inputs: ReloadPlan['inputs'] = { keep: [], restart: [], stop: [...curIn.keys()].filter((n) => !nextIn.has(n)), start: [] };
  for (const [name, i] of nextIn) {
    const old = curIn.get(name);
    if (!old) inputs.start.push(i);
    else if (isDeepStrictEqual(old, i)) inputs.keep.push(name);
    else inputs.restart.push(i);
  }
  return { restartRequired, pipelines, inputs };
}

/** The state part a step keeps, or undefined for steps without state (filter, map, output) and operator steps (named by the operator). */
function partOf(st: StepSpec): string | undefined {
  if (st.window) return 'window';
  if (st.detect) {
    const d = st.detect as { name?: string; detector: string }; // named as compileDetectStep names it
    return `detect:${d.name ?? d.detector}`;
  }
  return undefined;
}

const BUILT_IN = new Set(['window', 'detect', 'filter', 'map', 'output', 'streams']);
const isOperatorStep = (st: StepSpec) => Object.keys(st).some((k) => !BUILT_IN.has(k) && (st as Record<string, unknown>)[k] !== undefined);

/**
 * The parts of a changed pipeline's state that still fit its new spec: a step's state is carried
 * when that step and everything before it (the `input` section and every earlier step) are
 * unchanged, since then the same data reaches it. `keys` (the key registry and each key's time)
 * when the input is unchanged (but for `forget_after`, which changes only when a device gone is
 * let go); operator steps' state only when every step up to the last operator step is unchanged.
 * Everything else starts fresh.
 */
export function carriedParts(old: PipelineSpec, next: PipelineSpec): string[] {
  const { forget_after: _old, ...oldInput } = old.input;
  const { forget_after: _next, ...nextInput } = next.input;
  if (!isDeepStrictEqual(oldInput, nextInput)) return [];
  let same = 0;
  while (same < next.steps.length && same < old.steps.length && isDeepStrictEqual(old.steps[same], next.steps[same])) same++;
  const parts = ['keys'];
  for (const st of next.steps.slice(0, same)) {
    const p = partOf(st);
    if (p) parts.push(p);
  }
  const lastOperator = next.steps.findLastIndex(isOperatorStep);
  if (lastOperator >= 0 && lastOperator < same) parts.push('operator:*');
  return parts;
}

function carries(carry: string[], part: string): boolean {
  return carry.includes(part) || (part.startsWith('operator:') && carry.includes('operator:*'));
}

/**
 * Swap the pipelines in place (the array is shared with the state keeper): unchanged ones stay
 * (same object), removed ones are flushed (open windows sent as partial) and dropped, changed
 * ones are rebuilt with the carried parts of their state restored (their windows flushed as
 * partial first unless the window is carried), new ones are added. Synchronous: no reading
 * arrives in between. Returns parts that could not be restored (their operator starts fresh).
 */
export function swapPipelines(list: Pipeline[], plan: ReloadPlan['pipelines'], compile: (spec: PipelineSpec) => Pipeline): RestoreFailure[] {
  // Built first: a pipeline that cannot be built throws before anything has changed.
  const built = new Map([...plan.rebuild.map((r) => r.spec), ...plan.add].map((spec) => [spec.name, compile(spec)]));
  const byName = new Map(list.map((p) => [p.name, p]));
  const failures: RestoreFailure[] = [];
  for (const name of plan.remove) byName.get(name)!.flush(true);
  for (const { spec, carry } of plan.rebuild) {
    const old = byName.get(spec.name)!;
    if (!carry.includes('window')) old.flush(true);
    const snap = old.snapshot();
    const kept: PipelineSnapshot = { pipeline: spec.name, parts: Object.fromEntries(Object.entries(snap.parts).filter(([part]) => carries(carry, part))) };
    failures.push(...built.get(spec.name)!.restore(kept));
  }
  const next = list.filter((p) => !plan.remove.includes(p.name)).map((p) => built.get(p.name) ?? p);
  for (const spec of plan.add) next.push(built.get(spec.name)!);
  list.splice(0, list.length, ...next);
  return failures;
}

/** The plan as what changed (for the log and POST /reload). */
export function describeChanges(plan: ReloadPlan): ReloadChanges {
  return {
    pipelines: {
      kept: plan.pipelines.keep,
      rebuilt: plan.pipelines.rebuild.map((r) => ({ name: r.spec.name, kept: r.carry })),
      removed: plan.pipelines.remove,
      added: plan.pipelines.add.map((s) => s.name),
    },
    inputs: { kept: plan.inputs.keep, restarted: plan.inputs.restart.map((i) => i.name), stopped: plan.inputs.stop, started: plan.inputs.start.map((i) => i.name) },
  };
}

export type ReloadResult = 'applied' | 'invalid' | 'refused' | 'failed';

/** What a reload did: the log line, and the JSON answer of POST /reload. */
export interface ReloadReport {
  result: ReloadResult;
  /** What asked for it: SIGHUP, file change, POST /reload. */
  trigger: string;
  message: string;
  /** Config errors as `FILE:LINE:COLUMN: error: …` (result invalid), each with its place in `issues`. */
  errors?: string[];
  issues?: ConfigIssue[];
  /** Settings that changed and need a restart (result refused). */
  restartRequired?: string[];
  changes?: ReloadChanges;
  /** How long the swap and its checkpoint held up readings (ms). */
  pauseMs?: number;
}

export interface ReloaderOptions {
  /** Load and validate the config and its pipelines (in a short-lived child: loadGatewayFileInChild). */
  load: () => Promise<LoadedGateway>;
  gateway: { reload(next: ReloadTarget): Promise<ReloadOutcome> };
  log: Logger;
  /** After a reload that swapped something in (applied or failed): settings the caller runs (stats timers, the file watch). */
  onSwapped?: (loaded: LoadedGateway, changes: ReloadChanges) => void;
}

/**
 * Runs reloads one at a time (a SIGHUP during a POST /reload waits its turn): load and validate,
 * hand the result to the gateway, log the outcome and count it by result.
 */
export class Reloader {
  readonly counts: Record<ReloadResult, number> = { applied: 0, invalid: 0, refused: 0, failed: 0 };
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: ReloaderOptions) {}

  reload(trigger: string): Promise<ReloadReport> {
    const run = this.queue.then(() => this.run(trigger));
    this.queue = run.catch(() => {});
    return run;
  }

  private async run(trigger: string): Promise<ReloadReport> {
    const r = await this.attempt(trigger);
    this.counts[r.result]++;
    const { log } = this.o;
    if (r.result === 'applied') log.info({ trigger, changes: r.changes, pauseMs: r.pauseMs }, r.message);
    else log.error({ trigger, errors: r.errors ?? r.restartRequired, changes: r.changes, pauseMs: r.pauseMs }, r.message);
    return r;
  }

  private async attempt(trigger: string): Promise<ReloadReport> {
    let loaded: LoadedGateway;
    try {
      loaded = await this.o.load();
    } catch (err) {
      if (err instanceof ConfigError) {
        const errors = err.lines();
        return { result: 'invalid', trigger, message: `reload refused, still running the previous config: ${err.message}`, errors, issues: err.issues };
      }
      return { result: 'failed', trigger, message: `reload failed, still running the previous config: ${(err as Error).message}` };
    }
    let out: ReloadOutcome;
    try {
      out = await this.o.gateway.reload({ config: loaded.config, pipelines: loaded.pipelines.map((p) => p.spec) });
    } catch (err) {
      return { result: 'failed', trigger, message: `reload failed: ${(err as Error).message}` };
    }
    if (out.result === 'refused') {
      return { result: 'refused', trigger, message: `reload refused, still running the previous config:\n${out.restartRequired.join('\n')}`, restartRequired: out.restartRequired };
    }
    this.o.onSwapped?.(loaded, out.changes);
    const pauseMs = Math.round(out.pauseMs * 10) / 10;
    if (out.result === 'failed') return { result: 'failed', trigger, message: `reload applied, but: ${out.errors.join('; ')}`, errors: out.errors, changes: out.changes, pauseMs };
    return { result: 'applied', trigger, message: `reload applied: ${summary(out.changes)}`, changes: out.changes, pauseMs };
  }
}

function summary(c: ReloadChanges): string {
  const parts: string[] = [];
  const p = c.pipelines;
  const i = c.inputs;
  const add = (what: string, names: string[]) => names.length && parts.push(`${what} ${names.join(', ')}`);
  add('pipelines kept:', p.kept);
  add('rebuilt:', p.rebuilt.map((r) => r.name));
  add('removed:', p.removed);
  add('added:', p.added);
  add('inputs kept:', i.kept);
  add('restarted:', i.restarted);
  add('stopped:', i.stopped);
  add('started:', i.started);
  return parts.join('; ') || 'nothing to run';
}
