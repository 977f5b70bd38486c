/**
 * Environment overrides for the gateway config (how balena fleets configure devices).
 *
 * The rule: `EDGEWISE_` + the setting's path in upper case, with `__` (two underscores) between
 * levels and list items by index. Single underscores stay part of a key, so snake_case keys survive:
 *
 *   EDGEWISE_GATEWAY__ID=gw-7                → gateway.id: gw-7
 *   EDGEWISE_UPSTREAM__TLS__REJECT_UNAUTHORIZED=false
 *   EDGEWISE_INPUTS__0__PORT=1884            → inputs[0].port: 1884
 *   EDGEWISE_PIPELINES='[pipelines/a.yaml]'  → pipelines: [pipelines/a.yaml]
 *
 * The value is read as YAML (a number, true/false, a [flow, list] or a {flow: mapping}); when the
 * setting takes text and the YAML reading does not fit it, the text is taken as is (so
 * `EDGEWISE_GATEWAY__ID=007` stays "007"). An empty value is ignored. A variable that names no
 * setting is an error (with a did-you-mean), except the runtime variables in RUNTIME_ENV_VARS.
 */
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import type { ConfigIssue } from '../core/config-error.js';
import { didYouMean } from './suggest.js';
import { tooDeepAt } from './yaml-source.js';
import { defOf, formatPath, resolve, schemaAt, unwrap, type PathSeg } from './zod-walk.js';

export const ENV_PREFIX = 'EDGEWISE_';

/** A mapping or a list of the config data, indexed by a path segment. */
type Container = Record<PathSeg, unknown>;

/** `EDGEWISE_*` variables that are read by the runtime itself and are not config settings. */
export const RUNTIME_ENV_VARS: readonly string[] = [
  'EDGEWISE_CONFIG', // path of the gateway config file for `edgewise run` when --config is not given
  'EDGEWISE_LOG_LEVEL', // log level before (or without) a config file, e.g. for replay
  'EDGEWISE_LOG_FORMAT', // log format before (or without) a config file
];

export interface EnvOverride {
  variable: string;
  path: PathSeg[];
  value: unknown;
}

export interface EnvResult {
  /** The data with every valid override applied (a copy; the input is not changed). */
  data: unknown;
  applied: EnvOverride[];
  /** Paths that came from the environment (set, or created on the way), with their variable. */
  owned: Array<{ path: PathSeg[]; variable: string }>;
  issues: ConfigIssue[];
}

/** `EDGEWISE_INPUTS__0__PORT` → `['inputs', 0, 'port']` (undefined when not an EDGEWISE_ setting name). */
export function envPath(variable: string): PathSeg[] | undefined {
  if (!variable.startsWith(ENV_PREFIX) || RUNTIME_ENV_VARS.includes(variable)) return undefined;
  const rest = variable.slice(ENV_PREFIX.length);
  if (rest === '') return undefined;
  return rest.split('__').map((seg) => (/^\d+$/.test(seg) ? Number(seg) : seg.toLowerCase()));
}

/** `['inputs', 0, 'port']` → `EDGEWISE_INPUTS__0__PORT` */
export function envName(path: readonly PathSeg[]): string {
  return ENV_PREFIX + path.map((s) => String(s).toUpperCase()).join('__');
}

/** Every setting path reachable in the schema (lists as index 0), for did-you-mean on variable names. */
function settingPaths(schema: z.ZodType, depth = 0, prefix: PathSeg[] = []): PathSeg[][] {
  if (depth > 6) return [];
  const out: PathSeg[][] = [];
  const s = unwrap(schema);
  const d = defOf(s);
  if (d.type === 'object') {
    for (const [k, child] of Object.entries(d.shape as Record<string, z.ZodType>)) {
      out.push([...prefix, k]);
      out.push(...settingPaths(child, depth + 1, [...prefix, k]));
    }
  } else if (d.type === 'array') {
    out.push([...prefix, 0]);
    out.push(...settingPaths(d.element, depth + 1, [...prefix, 0]));
  } else if (d.type === 'union') {
    const seen = new Set<string>();
    for (const o of d.options as z.ZodType[]) {
      for (const p of settingPaths(o, depth, prefix)) {
        const key = p.join('\u0000');
        if (!seen.has(key)) {
          seen.add(key);
          out.push(p);
        }
      }
    }
  }
  return out;
}

function clone<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

function readValue(raw: string, leaf: z.ZodType | undefined): unknown {
  let v: unknown;
  if (tooDeepAt(raw) !== undefined) return raw; // not read as YAML: the schema reports it (cut) as a wrong type
  try {
    v = parseYaml(raw);
  } catch {
    return raw;
  }
  if (typeof v === 'string' || !leaf) return v ?? raw;
  if (leaf.safeParse(v).success) return v;
  if (leaf.safeParse(raw).success) return raw;
  return v ?? raw;
}

function suggestVariable(path: PathSeg[], at: number, here: z.ZodType, root: z.ZodType): string | undefined {
  const prefix = path.slice(0, at);
  const squash = (p: readonly PathSeg[]) => envName(p).replace(/_/g, '');
  const localPaths = settingPaths(here, 0, prefix);
  // 1. The same name with underscores in the wrong places (EDGEWISE_GATEWAY_ID → EDGEWISE_GATEWAY__ID).
  const typed = squash(path);
  const indices = path.filter((s): s is number => typeof s === 'number');
  const same = localPaths.find((p) => squash(p) === typed)
    ?? settingPaths(root).find((p) => squash(p.map((s) => (typeof s === 'number' ? (indices.shift() ?? 0) : s))) === typed);
  if (same) return envName(same);
  // 2. A typo in this segment (EDGEWISE_GATWAY__ID → EDGEWISE_GATEWAY__ID).
  const keys = Object.keys(defOf(here).shape ?? {});
  const seg = didYouMean(String(path[at]), keys);
  if (seg !== undefined) return envName([...prefix, seg, ...path.slice(at + 1)]);
  // 3. A setting of that name further down (EDGEWISE_INPUTS__0__PORT → EDGEWISE_INPUTS__0__BROKER__PORT).
  const tail = path.slice(at).map(String).join('\u0000');
  const deeper = localPaths.find((p) => p.slice(-(path.length - at)).map(String).join('\u0000') === tail);
  return deeper ? envName(deeper) : undefined;
}

/**
 * Apply `EDGEWISE_*` overrides to parsed gateway config data. Shorter paths first, so a whole
 * section set from one variable can be refined by another.
 */
export function applyEnvOverrides(data: unknown, schema: z.ZodType, env: NodeJS.ProcessEnv): EnvResult {
  const out: EnvResult = { data: clone(data) ?? {}, applied: [], owned: [], issues: [] };
  const vars = Object.keys(env)
    .filter((k) => k.startsWith(ENV_PREFIX) && !RUNTIME_ENV_VARS.includes(k) && (env[k] ?? '') !== '')
    .map((k) => ({ variable: k, path: envPath(k) }))
    .filter((v): v is { variable: string; path: PathSeg[] } => v.path !== undefined)
    .sort((a, b) => a.path.length - b.path.length || (a.variable < b.variable ? -1 : 1));

  const fail = (variable: string, message: string) => out.issues.push({ file: `env ${variable}`, line: 0, column: 0, path: '', message });

  if (out.data === null || typeof out.data !== 'object' || Array.isArray(out.data)) {
    for (const v of vars) fail(v.variable, 'cannot apply: the config file is not a mapping');
    return out;
  }

  for (const { variable, path } of vars) {
    const problem = checkPath(variable, path, schema, out.data);
    if (problem) {
      fail(variable, problem);
      continue;
    }
    // Apply, creating mappings/lists on the way.
    let node = out.data as Container;
    let sch: z.ZodType | undefined = schema;
    for (const [i, seg] of path.entries()) {
      const childSch: z.ZodType | undefined = sch ? schemaAt(sch, [seg], node) : undefined;
      if (i === path.length - 1) {
        const value = readValue(env[variable] ?? '', childSch);
        node[seg] = value;
        out.applied.push({ variable, path, value });
        out.owned.push({ path, variable });
      } else {
        let child = node[seg];
        if (child === undefined || child === null || typeof child !== 'object') {
          child = node[seg] = typeof path[i + 1] === 'number' ? [] : {};
          out.owned.push({ path: path.slice(0, i + 1), variable });
        }
        node = child as Container;
        sch = childSch;
      }
    }
  }
  return out;
}

/** Does `path` name a setting? Returns what is wrong, or undefined. Reads the data only (to pick union branches). */
function checkPath(variable: string, path: PathSeg[], schema: z.ZodType, data: unknown): string | undefined {
  let node: unknown = data;
  let sch: z.ZodType | undefined = schema;
  for (const [i, seg] of path.entries()) {
    const here = path.slice(0, i);
    const resolved: z.ZodType | undefined = sch ? resolve(sch, node, seg) : undefined;
    const kind = resolved ? defOf(resolved).type : undefined;
    if (kind === 'object') {
      if (typeof seg !== 'string') return `${formatPath(here)} is a section, not a list; name a setting instead of index ${seg}`;
      const shape = defOf(resolved!).shape as Record<string, z.ZodType>;
      if (!(seg in shape)) {
        const guess = suggestVariable(path, i, resolved!, schema);
        const where = here.length ? `in ${formatPath(here)}` : 'at the top level';
        return `no setting "${seg}" ${where}${guess ? `; did you mean ${guess}?` : ` (settings there: ${Object.keys(shape).join(', ')})`}`;
      }
    } else if (kind === 'array') {
      if (typeof seg !== 'number') return `${formatPath(here)} is a list; give an item index, e.g. ${envName([...here, 0, ...path.slice(i)])}`;
      const len = Array.isArray(node) ? node.length : 0;
      if (seg > len) return `${formatPath(here)} has ${len} item${len === 1 ? '' : 's'}; index ${seg} would leave a gap (use ${envName([...here, len, ...path.slice(i + 1)])} to add an item)`;
    } else if (sch !== undefined && kind !== undefined) {
      return `${formatPath(here)} is a single value, not a section; set it with ${envName(here)}`;
    }
    // (kind undefined: inside a union the data does not decide yet, e.g. an input without `type`; the schema will say.)
    sch = sch && resolved ? childSchemaOf(resolved, node, seg) : undefined;
    node = node !== null && typeof node === 'object' ? (node as Container)[seg] : undefined;
  }
  return undefined;
}

function childSchemaOf(s: z.ZodType, node: unknown, seg: PathSeg): z.ZodType | undefined {
  return schemaAt(s, [seg], node);
}

/** The variable that set (or created) the value at `path`, if any: the longest owned prefix. */
export function envOwner(owned: EnvResult['owned'], path: readonly PathSeg[]): string | undefined {
  let best: { path: PathSeg[]; variable: string } | undefined;
  for (const o of owned) {
    if (o.path.length <= path.length && o.path.every((s, i) => path[i] === s) && (!best || o.path.length > best.path.length)) best = o;
  }
  return best?.variable;
}
