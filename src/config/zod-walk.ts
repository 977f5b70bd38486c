/**
 * Walking zod v4 schemas along a data path: which schema governs `steps[2].window.size`, which keys
 * an object allows (for did-you-mean), and how to say in words what a schema expects. Used by the
 * error messages, the env overrides and the docs generator, so all three agree with the one schema.
 *
 * zod v4 keeps its definition on `schema._zod.def` (`type` plus per-type fields). `.describe()` and
 * `.meta()` clone a schema but share its `def`, so a definition can be recognised by identity.
 */
import type { z } from 'zod';
import { byteSizeSchema, durationSchema } from '../core/units.js';

type AnySchema = z.ZodType;
export type PathSeg = string | number;

interface Def {
  type: string;
  [k: string]: any;
}

export function defOf(schema: AnySchema): Def {
  return (schema as any)._zod.def as Def;
}

const DURATION_DEF = defOf(durationSchema);
const BYTE_SIZE_DEF = defOf(byteSizeSchema);

export const DURATION_EXPECTED = 'a duration such as 500ms, 10s, 5m, 1h or 1d';
export const BYTE_SIZE_EXPECTED = 'a size such as 512KB, 64MB or 1GB';

/** Strip wrappers that do not change the shape of the input: optional, default, lazy, pipe (input side)... */
export function unwrap(schema: AnySchema): AnySchema {
  let s = schema;
  for (let i = 0; i < 50; i++) {
    const d = defOf(s);
    if (d === DURATION_DEF || d === BYTE_SIZE_DEF) return s;
    switch (d.type) {
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'nonoptional':
      case 'readonly':
      case 'catch':
        s = d.innerType;
        break;
      case 'lazy':
        s = d.getter();
        break;
      case 'pipe':
        s = d.in;
        break;
      default:
        return s;
    }
  }
  return s;
}

export function isDuration(schema: AnySchema): boolean {
  return defOf(unwrap(schema)) === DURATION_DEF;
}
export function isByteSize(schema: AnySchema): boolean {
  return defOf(unwrap(schema)) === BYTE_SIZE_DEF;
}

/** The default value of a field, if it has one (`.default(x)` anywhere in its wrappers). */
export function defaultOf(schema: AnySchema): { value: unknown } | undefined {
  let s = schema;
  for (let i = 0; i < 50; i++) {
    const d = defOf(s);
    if (d.type === 'default' || d.type === 'prefault') {
      const v = typeof d.defaultValue === 'function' ? d.defaultValue() : d.defaultValue;
      return { value: v };
    }
    if (d.type === 'optional' || d.type === 'nullable' || d.type === 'readonly' || d.type === 'catch' || d.type === 'nonoptional') s = d.innerType;
    else if (d.type === 'lazy') s = d.getter();
    else return undefined;
  }
  return undefined;
}

/** True when the field may be left out (optional or has a default). */
export function isOptional(schema: AnySchema): boolean {
  // zod marks `.optional()` as "optional" and `.default()` as "defaulted": neither has to be written.
  const opt = (schema as any)._zod.optin;
  return opt === 'optional' || opt === 'defaulted';
}

/** For a discriminated union: the discriminator key and its values per option. */
export function discriminated(schema: AnySchema): { key: string; options: Array<{ value: unknown; schema: AnySchema }> } | undefined {
  const d = defOf(schema);
  if (d.type !== 'union' || typeof d.discriminator !== 'string') return undefined;
  const key = d.discriminator as string;
  const options: Array<{ value: unknown; schema: AnySchema }> = [];
  for (const opt of d.options as AnySchema[]) {
    const values: Set<unknown> | undefined = (opt as any)._zod.propValues?.[key];
    for (const v of values ?? []) options.push({ value: v, schema: opt });
  }
  return { key, options };
}

/**
 * Pick the union branch that the data selects (discriminated unions by their key; plain unions by
 * the first object branch that has the key we are looking for).
 */
function pickBranch(schema: AnySchema, data: unknown, nextKey?: PathSeg): AnySchema | undefined {
  const d = defOf(schema);
  const du = discriminated(schema);
  if (du) {
    const v = data && typeof data === 'object' ? (data as Record<string, unknown>)[du.key] : undefined;
    return du.options.find((o) => o.value === v)?.schema;
  }
  const options = (d.options as AnySchema[]).map(unwrap);
  if (nextKey !== undefined) {
    for (const o of options) {
      const od = defOf(o);
      if (typeof nextKey === 'string' && od.type === 'object' && nextKey in od.shape) return o;
      if (typeof nextKey === 'number' && od.type === 'array') return o;
    }
  }
  if (Array.isArray(data)) return options.find((o) => defOf(o).type === 'array');
  if (data && typeof data === 'object') return options.find((o) => defOf(o).type === 'object');
  return undefined;
}

/** Resolve a union (by the data) to a concrete schema; other schemas are returned unwrapped. */
export function resolve(schema: AnySchema, data: unknown, nextKey?: PathSeg): AnySchema | undefined {
  let s: AnySchema | undefined = unwrap(schema);
  for (let i = 0; i < 10 && s && defOf(s).type === 'union' && !isDuration(s) && !isByteSize(s); i++) {
    const b = pickBranch(s, data, nextKey);
    s = b ? unwrap(b) : undefined;
  }
  return s;
}

/** The schema of one child (object key or array index) of `schema`, given the data at that node. */
export function childSchema(schema: AnySchema, data: unknown, key: PathSeg): AnySchema | undefined {
  const s = resolve(schema, data, key);
  if (!s) return undefined;
  const d = defOf(s);
  if (d.type === 'object' && typeof key === 'string') {
    if (Object.prototype.hasOwnProperty.call(d.shape, key)) return d.shape[key];
    return d.catchall && defOf(d.catchall).type !== 'never' ? d.catchall : undefined;
  }
  if (d.type === 'array' && typeof key === 'number') return d.element;
  if (d.type === 'record' && typeof key === 'string') return d.valueType;
  if (d.type === 'tuple' && typeof key === 'number') return d.items[key] ?? d.rest ?? undefined;
  return undefined;
}

export function getIn(data: unknown, path: readonly PathSeg[]): unknown {
  let v = data;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as any)[seg];
  }
  return v;
}

/** The schema at `path` (following discriminated unions by the data), or undefined when the path leaves the schema. */
export function schemaAt(root: AnySchema, path: readonly PathSeg[], data: unknown): AnySchema | undefined {
  let s: AnySchema | undefined = root;
  let v = data;
  for (const seg of path) {
    if (!s) return undefined;
    s = childSchema(s, v, seg);
    v = v !== null && typeof v === 'object' ? (v as any)[seg] : undefined;
  }
  return s;
}

/** The keys an object schema at this node allows (union branches resolved by the data; all branches' keys if undecided). */
export function allowedKeys(schema: AnySchema | undefined, data: unknown): string[] {
  if (!schema) return [];
  const s = resolve(schema, data);
  if (s && defOf(s).type === 'object') return Object.keys(defOf(s).shape);
  const u = unwrap(schema);
  if (defOf(u).type === 'union') {
    const keys = new Set<string>();
    for (const o of defOf(u).options as AnySchema[]) for (const k of allowedKeys(o, data)) keys.add(k);
    return [...keys];
  }
  return [];
}

/** Values an enum / literal (or union of literals) accepts, or undefined for other schemas. */
export function enumValues(schema: AnySchema): unknown[] | undefined {
  const s = unwrap(schema);
  const d = defOf(s);
  if (d.type === 'enum') return Object.values(d.entries);
  if (d.type === 'literal') return [...d.values];
  if (d.type === 'union' && !isDuration(s) && !isByteSize(s)) {
    const all: unknown[] = [];
    for (const o of d.options as AnySchema[]) {
      const v = enumValues(o);
      if (!v) return undefined;
      all.push(...v);
    }
    return all;
  }
  return undefined;
}

function checkDefs(s: AnySchema): any[] {
  return ((defOf(s).checks ?? []) as any[]).map((c) => c._zod.def);
}

function numberWords(s: AnySchema): string {
  const checks = checkDefs(s);
  const int = checks.some((c) => c.check === 'number_format' && /int/.test(c.format));
  let lo: { v: number; incl: boolean } | undefined;
  let hi: { v: number; incl: boolean } | undefined;
  for (const c of checks) {
    if (c.check === 'greater_than') lo = { v: c.value, incl: c.inclusive };
    if (c.check === 'less_than') hi = { v: c.value, incl: c.inclusive };
  }
  if (int && lo && !lo.incl) lo = { v: lo.v + 1, incl: true };
  if (int && hi && !hi.incl) hi = { v: hi.v - 1, incl: true };
  const noun = int ? 'an integer' : 'a number';
  const bigHi = hi && Math.abs(hi.v) >= Number.MAX_SAFE_INTEGER;
  if (lo && hi && !bigHi) {
    if (lo.incl && hi.incl) return `${noun} from ${lo.v} to ${hi.v}`;
    return `${noun} ${lo.incl ? '>=' : '>'} ${lo.v} and ${hi.incl ? '<=' : '<'} ${hi.v}`;
  }
  if (lo) return int && lo.v === 1 ? `${noun} > 0` : `${noun} ${lo.incl ? '>=' : '>'} ${lo.v}`;
  if (hi && !bigHi) return `${noun} ${hi.incl ? '<=' : '<'} ${hi.v}`;
  return noun;
}

function quoteValue(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** In words, what a schema accepts: "an integer > 0", "a duration such as ...", "one of a, b, c". */
export function describeExpected(schema: AnySchema | undefined, depth = 0): string {
  if (!schema) return 'nothing here';
  const s = unwrap(schema);
  if (isDuration(s)) return DURATION_EXPECTED;
  if (isByteSize(s)) return BYTE_SIZE_EXPECTED;
  const d = defOf(s);
  switch (d.type) {
    case 'string': {
      const min = checkDefs(s).find((c) => c.check === 'min_length');
      return min && min.minimum > 0 ? 'a non-empty string' : 'a string';
    }
    case 'number':
      return numberWords(s);
    case 'int':
      return 'an integer';
    case 'boolean':
      return 'true or false';
    case 'enum':
    case 'literal': {
      const vals = enumValues(s) ?? [];
      return vals.length === 1 ? quoteValue(vals[0]) : `one of ${vals.map(quoteValue).join(', ')}`;
    }
    case 'array': {
      if (depth > 1) return 'a list';
      const inner = describeExpected(d.element, depth + 1);
      const plural: Record<string, string> = { 'a mapping': 'mappings', 'a string': 'strings', 'a non-empty string': 'non-empty strings', 'a number': 'numbers', 'an integer': 'integers' };
      return plural[inner] ? `a list of ${plural[inner]}` : `a list (each item ${inner})`;
    }
    case 'object':
    case 'record':
      return 'a mapping';
    case 'union': {
      const du = discriminated(s);
      if (du) return `a mapping with ${du.key}: ${du.options.map((o) => quoteValue(o.value)).join(', ')}`;
      const vals = enumValues(s);
      if (vals) return `one of ${vals.map(quoteValue).join(', ')}`;
      const parts = [...new Set((d.options as AnySchema[]).map((o) => describeExpected(o, depth + 1)))];
      return parts.join(' or ');
    }
    case 'never':
      return 'nothing (not available in this build)';
    case 'null':
      return 'null';
    default:
      return `a value of type ${d.type}`;
  }
}

/** A data value in an error message: strings quoted, lists and mappings named. */
export function describeFound(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'an empty value (null)';
  if (typeof v === 'string') return v === '' ? 'an empty string' : v.length <= 80 ? JSON.stringify(v) : `${JSON.stringify(v.slice(0, 60))}… (${v.length} characters)`;
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : `a list of ${v.length}`;
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

/** `steps[2].window.size` */
export function formatPath(path: readonly PathSeg[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out || '(top level)';
}

/** The first description met while unwrapping (`.describe()` may sit on any wrapper). */
export function descriptionOf(schema: z.ZodType): string {
  let s: any = schema;
  for (let i = 0; i < 20 && s; i++) {
    if (typeof s.description === 'string' && s.description) return s.description;
    const d = s._zod.def;
    if (isDuration(s) || isByteSize(s)) break;
    s = d.innerType ?? (d.type === 'lazy' ? d.getter() : d.type === 'pipe' ? d.in : undefined);
  }
  return '';
}

/** The union inside a field schema (schemaAt returns the field, maybe wrapped in optional/default). */
export function unwrapUnion(s: z.ZodType): z.ZodType {
  let cur: any = s;
  for (let i = 0; i < 10 && cur?._zod?.def && cur._zod.def.type !== 'union'; i++) {
    const d = cur._zod.def;
    cur = d.innerType ?? (d.type === 'lazy' ? d.getter() : undefined) ?? d.in;
  }
  return cur ?? s;
}
