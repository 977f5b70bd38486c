/**
 * Loading pipelines and gateway configs from YAML, with every problem reported at once as
 * `FILE:LINE:COLUMN: error: <field>: <message>` (see ConfigError).
 */
import { dirname, relative, resolve as resolvePath, sep } from 'node:path';
import { globSync, isDynamicPattern } from 'tinyglobby';
import type { z } from 'zod';
import { ConfigError, sortIssues, type ConfigIssue } from '../core/config-error.js';
import { applyEnvOverrides, envOwner, type EnvOverride } from './env.js';
import { gatewayConfigSchema, type GatewayConfig } from './gateway.js';
import { configIssuesFromZod, type Locator } from './messages.js';
import { pipelineSchema, type PipelineSpec } from './pipeline.js';
import { keyPositionOf, parseYamlSource, positionOf, type YamlSource } from './yaml-source.js';
import { MAX_CONFIG_BYTES, readConfigFile } from './read-config.js';
import { childSchema, getIn, isDuration, unwrap, type PathSeg } from './zod-walk.js';

export { ConfigError, formatConfigIssue, type ConfigIssue } from '../core/config-error.js';

interface LoadedPipeline {
  /** The file as given (or as found through a gateway's `pipelines` glob, relative to the working directory when inside it). */
  file: string;
  spec: PipelineSpec;
}

export interface LoadedGateway {
  file: string;
  /** Folder of the config file: relative paths in it (data_dir, pipelines) are relative to this. */
  dir: string;
  config: GatewayConfig;
  pipelines: LoadedPipeline[];
  /** Environment overrides that were applied. */
  env: EnvOverride[];
}

function readText(file: string): string {
  const r = readConfigFile(file);
  if ('error' in r) throw new ConfigError([{ file, line: 0, column: 0, path: '', message: r.error }]);
  return r.text;
}

/** Parse, unless the text is too big; a document that is not a mapping is reported without echoing it (it may be any file). */
function parseConfigText(text: string, file: string): YamlSource | ConfigIssue[] {
  if (text.length > MAX_CONFIG_BYTES) return [{ file, line: 0, column: 0, path: '', message: `${text.length} characters is larger than 1 MiB, the most a config file may hold` }];
  const src = parseYamlSource(text, file);
  if (src.syntaxIssues.length) return notYaml(src.syntaxIssues, file) ?? src.syntaxIssues;
  const d = src.data;
  if (d !== undefined && (typeof d !== 'object' || d === null || Array.isArray(d))) {
    const what = Array.isArray(d) ? 'a list' : typeof d === 'string' ? `text (${d.length} characters)` : `a ${typeof d}`;
    return [{ file, ...strip(positionOf(src, [])), path: '', message: `not a YAML mapping: found ${what}; a config or pipeline file is a mapping of keys (is this the right file?)` }];
  }
  return src;
}

/** Many syntax errors at once mean "this is not YAML at all": one line about that instead. */
function notYaml(issues: ConfigIssue[], file: string): ConfigIssue[] | undefined {
  const [first] = issues;
  if (issues.length < 20 || !first) return undefined;
  return [{ ...first, message: `${first.message} (and ${issues.length - 1} more syntax errors: is this a YAML file?)` }];
}

function fileLocator(src: YamlSource): Locator {
  return {
    value: (path) => ({ file: src.file, ...strip(positionOf(src, path)) }),
    key: (path, key) => ({ file: src.file, ...keyPositionOf(src, path, key) }),
  };
}

function strip(p: { line: number; column: number }): { line: number; column: number } {
  return { line: p.line, column: p.column };
}

function validate<S extends z.ZodType>(schema: S, data: unknown, where: Locator): { value?: z.output<S>; issues: ConfigIssue[] } {
  const bare = bareDurations(schema, data, [], where);
  const r = schema.safeParse(data);
  if (r.success) return bare.length ? { issues: bare } : { value: r.data, issues: [] };
  return { issues: [...bare, ...configIssuesFromZod(r.error.issues, schema, data, where)] };
}

/**
 * In a config file a duration must carry its unit: `keepalive: 30` would otherwise mean 30 ms
 * (likely meant as seconds) and fail in a way nobody notices. 0 needs no unit. Programs that
 * build configs (tests, benches) may still pass numbers of milliseconds to the schemas.
 */
function bareDurations(schema: z.ZodType | undefined, data: unknown, path: PathSeg[], where: Locator): ConfigIssue[] {
  if (!schema || data === null || typeof data !== 'object' || path.length > 32) return [];
  const out: ConfigIssue[] = [];
  for (const [k, v] of Array.isArray(data) ? data.entries() : Object.entries(data)) {
    const child = childSchema(schema, data, k);
    if (!child) continue;
    const at = [...path, k];
    if (typeof v === 'number' && v !== 0 && isDuration(unwrap(child))) {
      out.push({ ...where.value(at), path: at.map((x, i) => (typeof x === 'number' ? `[${x}]` : i ? `.${x}` : x)).join(''), message: `${v} has no unit; write it with one, e.g. ${v}ms or ${v}s (a bare number would be read as ${v} milliseconds)` });
    } else if (v !== null && typeof v === 'object') out.push(...bareDurations(child, v, at, where));
  }
  return out;
}

/** Validate pipeline YAML text; returns the issues instead of throwing. */
export function checkPipelineText(text: string, file: string): { spec?: PipelineSpec; issues: ConfigIssue[] } {
  const src = parseConfigText(text, file);
  if (Array.isArray(src)) return { issues: src };
  const r = validate(pipelineSchema(), src.data, fileLocator(src));
  return { spec: r.value, issues: sortIssues(r.issues) };
}

/** Parse and validate a pipeline (YAML text). Throws ConfigError with every problem found. */
export function parsePipelineText(text: string, file = '<pipeline>'): PipelineSpec {
  const r = checkPipelineText(text, file);
  if (r.issues.length || !r.spec) throw new ConfigError(r.issues);
  return r.spec;
}

/** Read, parse and validate a pipeline file. Throws ConfigError with every problem found. */
export function loadPipelineFile(file: string): PipelineSpec {
  return parsePipelineText(readText(file), file);
}

function displayPath(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') ? rel : abs;
}

interface GatewayCheck {
  config?: GatewayConfig;
  pipelines: LoadedPipeline[];
  env: EnvOverride[];
  issues: ConfigIssue[];
}

/**
 * Validate gateway YAML text with environment overrides applied, then every pipeline file it
 * lists (relative to `dir`). Returns all issues instead of throwing.
 */
export function checkGatewayText(text: string, file: string, env: NodeJS.ProcessEnv = process.env, dir = dirname(resolvePath(file))): GatewayCheck {
  const src = parseConfigText(text, file);
  if (Array.isArray(src)) return { pipelines: [], env: [], issues: src };
  const schema = gatewayConfigSchema();
  const overrides = applyEnvOverrides(src.data, schema, env);
  const inFile = fileLocator(src);
  const where: Locator = {
    value(path) {
      const v = envOwner(overrides.owned, path);
      return v ? { file: `env ${v}`, line: 0, column: 0 } : inFile.value(path);
    },
    key(path, key) {
      const v = envOwner(overrides.owned, [...path, key]);
      return v ? { file: `env ${v}`, line: 0, column: 0 } : inFile.key(path, key);
    },
  };
  const data = overrides.data;
  const r = validate(schema, data, where);
  const issues = [...overrides.issues, ...r.issues];

  // Pipelines: check them even when the gateway section has problems, so every error shows at once.
  const list = getIn(data, ['pipelines']);
  const pipelines: LoadedPipeline[] = [];
  if (Array.isArray(list)) {
    const files: Array<{ abs: string; from: PathSeg[] }> = [];
    const seen = new Set<string>();
    list.forEach((pattern, i) => {
      if (typeof pattern !== 'string' || pattern === '') return; // the schema reports it
      const from: PathSeg[] = ['pipelines', i];
      let matches: string[];
      if (isDynamicPattern(pattern)) {
        const base = globBase(pattern, dir);
        if (base === sep || base === resolvePath('/')) {
          issues.push({ ...where.value(from), path: `pipelines[${i}]`, message: `"${pattern}" would search the whole file system; name the folder of the pipelines (e.g. pipelines/*.yaml)` });
          return;
        }
        matches = globSync(pattern, { cwd: dir, absolute: true, onlyFiles: true, expandDirectories: false, deep: GLOB_DEPTH, followSymbolicLinks: false }).sort();
        if (matches.length > MAX_PIPELINE_FILES) {
          issues.push({ ...where.value(from), path: `pipelines[${i}]`, message: `"${pattern}" matches ${matches.length} files, more than ${MAX_PIPELINE_FILES}; name the folder of the pipelines` });
          return;
        }
        if (matches.length === 0) {
          issues.push({ ...where.value(from), path: `pipelines[${i}]`, message: `no file matches "${pattern}" (relative to ${displayPath(dir) || '.'})` });
        }
      } else {
        matches = [resolvePath(dir, pattern)];
      }
      for (const abs of matches) {
        if (seen.has(abs)) continue;
        seen.add(abs);
        files.push({ abs, from });
      }
    });
    const byName = new Map<string, { file: string; line: number; column: number }>();
    for (const { abs, from } of files) {
      const shown = displayPath(abs);
      const read = readConfigFile(abs);
      if ('error' in read) {
        issues.push({ ...where.value(from), path: formatIndex(from), message: `pipeline file ${shown}: ${read.error.replace(/^cannot read: /, '')}` });
        continue;
      }
      const text = read.text;
      const p = checkPipelineText(text, shown);
      issues.push(...p.issues);
      if (!p.spec) continue;
      const src = parseYamlSource(text, shown);
      const at = positionOf(src, ['name']);
      const prev = byName.get(p.spec.name);
      if (prev) {
        issues.push({ file: shown, line: at.line, column: at.column, path: 'name', message: `pipeline name "${p.spec.name}" is also used by ${prev.file}:${prev.line}; pipeline names must be unique in a gateway` });
        continue;
      }
      byName.set(p.spec.name, { file: shown, line: at.line, column: at.column });
      pipelines.push({ file: shown, spec: p.spec });
    }
  }
  return { config: issues.length ? undefined : r.value, pipelines, env: overrides.applied, issues: sortIssues(issues) };
}

/** Most pipeline files one glob may match, and how deep below its base folder it looks. */
const MAX_PIPELINE_FILES = 1000;
const GLOB_DEPTH = 8;

/** The folder a glob starts from: its levels before the first one with a wildcard, resolved against `dir`. */
function globBase(pattern: string, dir: string): string {
  const levels = pattern.split('/');
  const fixed: string[] = [];
  for (const l of levels) {
    if (isDynamicPattern(l)) break;
    fixed.push(l);
  }
  const base = fixed.join('/');
  return resolvePath(dir, base === '' && pattern.startsWith('/') ? '/' : base || '.');
}

function formatIndex(path: PathSeg[]): string {
  return `${String(path[0])}[${String(path[1])}]`;
}

/** Parse and validate gateway YAML text (+ env overrides and its pipeline files). Throws ConfigError with every problem found. */
export function parseGatewayText(text: string, file = '<gateway>', env: NodeJS.ProcessEnv = process.env, dir?: string): LoadedGateway {
  const d = dir ?? dirname(resolvePath(file));
  const r = checkGatewayText(text, file, env, d);
  if (r.issues.length || !r.config) throw new ConfigError(r.issues);
  return { file, dir: d, config: r.config, pipelines: r.pipelines, env: r.env };
}

/** Read and validate a gateway config file (`edgewise.yaml`), its env overrides and pipelines. Throws ConfigError. */
export function loadGatewayFile(file: string, env: NodeJS.ProcessEnv = process.env): LoadedGateway {
  return parseGatewayText(readText(file), file, env);
}

/** What a YAML file is: a gateway config has a top-level `gateway:` key; anything else is taken as a pipeline. */
export function detectConfigKind(text: string): 'gateway' | 'pipeline' {
  const src = parseYamlSource(text, '');
  const data = src.data as Record<string, unknown> | undefined;
  if (data && typeof data === 'object' && !Array.isArray(data) && 'gateway' in data) return 'gateway';
  if (src.syntaxIssues.length && /^gateway\s*:/m.test(text)) return 'gateway';
  return 'pipeline';
}
