/**
 * zod issues → messages a person can act on: the field, what was found, what was expected, and a
 * did-you-mean for unknown keys and values. Also drops follow-on noise (a step with an unknown key
 * is not also "missing a step kind").
 */
import type { z } from 'zod';
import type { ConfigIssue } from '../core/config-error.js';
import { didYouMean } from './suggest.js';
import {
  allowedKeys,
  describeExpected,
  describeFound,
  discriminated,
  enumValues,
  formatPath,
  getIn,
  isOptional,
  schemaAt,
  unwrapUnion,
  type PathSeg,
} from './zod-walk.js';

/** Where a data path lives: a file position, or the environment variable that set it. */
export interface Locator {
  /** The value at `path`, or (when missing) the nearest mapping above it. */
  value(path: readonly PathSeg[]): Pick<ConfigIssue, 'file' | 'line' | 'column'>;
  /** The key `key` in the mapping at `path`. */
  key(path: readonly PathSeg[], key: string): Pick<ConfigIssue, 'file' | 'line' | 'column'>;
}

type ZIssue = z.core.$ZodIssue;

function noun(path: readonly PathSeg[]): string {
  const last = [...path].reverse().find((s) => typeof s === 'string');
  const parent = path.filter((s) => typeof s === 'string').at(-2);
  switch (last) {
    case 'aggregates':
      return 'aggregate';
    case 'convert':
      return 'unit conversion';
    case 'level':
      return 'log level';
    case 'type':
      if (parent === 'window') return 'window type';
      if (path[0] === 'inputs') return 'input type';
      return 'type';
    default:
      return 'value';
  }
}

function quoteList(vals: readonly unknown[]): string {
  return vals.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
}

function unknownValue(path: readonly PathSeg[], found: unknown, allowed: readonly unknown[]): string {
  const strings = allowed.filter((v): v is string => typeof v === 'string');
  const guess = typeof found === 'string' ? didYouMean(found, strings) : undefined;
  if (guess !== undefined) return `unknown ${noun(path)} ${describeFound(found)}; did you mean "${guess}"?`;
  return `expected one of ${quoteList(allowed)}, found ${describeFound(found)}`;
}

function isMissing(data: unknown, path: readonly PathSeg[]): boolean {
  if (path.length === 0) return data === undefined;
  const parent = getIn(data, path.slice(0, -1));
  const key = path.at(-1);
  return parent !== null && typeof parent === 'object' && key !== undefined && (parent as Record<PathSeg, unknown>)[key] === undefined;
}

function missing(schema: z.ZodType, data: unknown, path: readonly PathSeg[]): string {
  if (path.length === 0) {
    const required = allowedKeys(schema, {}).filter((k) => !isOptional(schemaAt(schema, [k], {})!));
    return `the file is empty; expected a mapping with ${required.join(', ')}`;
  }
  const leaf = schemaAt(schema, path, data);
  return `missing required field "${String(path[path.length - 1])}" (${describeExpected(leaf)})`;
}

function sameOrUnder(path: readonly PathSeg[], prefix: readonly PathSeg[]): boolean {
  return prefix.length <= path.length && prefix.every((s, i) => path[i] === s);
}

interface Msg {
  path: PathSeg[];
  message: string;
  /** Unknown key: point at this key in the mapping at `path`. */
  key?: string;
  /** Missing: point at the parent. */
  missing?: boolean;
  custom?: boolean;
  /** Unknown key: the known key it probably meant. */
  meant?: string;
}

function messagesFor(issue: ZIssue, schema: z.ZodType, data: unknown, base: PathSeg[] = []): Msg[] {
  const path = [...base, ...(issue.path as PathSeg[])];
  const found = getIn(data, path);
  const leaf = () => schemaAt(schema, path, data);
  const expected = () => describeExpected(leaf());

  if (issue.code === 'unrecognized_keys') {
    const candidates = allowedKeys(schemaAt(schema, path, data), getIn(data, path));
    return issue.keys.map((k) => {
      const guess = didYouMean(k, candidates.filter((c) => !issue.keys.includes(c)));
      const tail = guess !== undefined ? `; did you mean "${guess}"?` : candidates.length ? ` (allowed here: ${candidates.join(', ')})` : '';
      return { path, key: k, meant: guess, message: `unknown field "${k}"${tail}` };
    });
  }

  if ((issue.code === 'invalid_type' || issue.code === 'invalid_value' || issue.code === 'invalid_union') && isMissing(data, path)) {
    return [{ path, missing: true, message: missing(schema, data, path) }];
  }

  switch (issue.code) {
    case 'invalid_type':
      // A schema's own words win over the generic ones (e.g. "detect steps are not available in this build").
      if (issue.expected === 'never' && issue.message && !/^Invalid/.test(issue.message)) return [{ path, message: issue.message }];
      return [{ path, message: `expected ${expected()}, found ${describeFound(found)}` }];
    case 'invalid_value':
      return [{ path, message: unknownValue(path, found, issue.values) }];
    case 'invalid_format': {
      const own = issue.message && !/^Invalid/.test(issue.message) ? issue.message : `expected ${expected()}`;
      return [{ path, message: `${own}, found ${describeFound(found)}` }];
    }
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      if (issue.origin === 'array' || issue.origin === 'set') {
        const n = Number(issue.code === 'too_small' ? issue.minimum : issue.maximum);
        const count = Array.isArray(found) ? found.length : 0;
        return [{ path, message: `expected ${small ? 'at least' : 'at most'} ${n} item${n === 1 ? '' : 's'}, found ${count}` }];
      }
      if (issue.origin === 'string') {
        const n = Number(issue.code === 'too_small' ? issue.minimum : issue.maximum);
        return [{ path, message: `expected ${small ? 'at least' : 'at most'} ${n} character${n === 1 ? '' : 's'}, found ${describeFound(found)}` }];
      }
      return [{ path, message: `expected ${expected()}, found ${describeFound(found)}` }];
    }
    case 'not_multiple_of':
      return [{ path, message: `expected a multiple of ${String(issue.divisor)}, found ${describeFound(found)}` }];
    case 'invalid_union': {
      const u = issue as z.core.$ZodIssueInvalidUnion & { note?: string; discriminator?: string; options?: unknown[] };
      if (u.note === 'No matching discriminator' || u.discriminator !== undefined) {
        const container = schemaAt(schema, path.slice(0, -1), data);
        const du = container ? discriminated(unwrapUnion(container)) : undefined;
        const allowed = du ? du.options.map((o) => o.value) : (u.options ?? []);
        return [{ path, message: unknownValue(path, found, allowed) }];
      }
      // A branch that got past the type check says more than "expected A or B".
      const deep = u.errors.find((branch) => branch.length > 0 && branch.every((e) => e.code !== 'invalid_type' || e.path.length > 0));
      if (deep) return deep.flatMap((e) => messagesFor(e, schema, data, path));
      const schemaHere = leaf();
      const vals = schemaHere ? enumValues(schemaHere) : undefined;
      if (vals) return [{ path, message: unknownValue(path, found, vals) }];
      return [{ path, message: `expected ${expected()}, found ${describeFound(found)}` }];
    }
    case 'custom':
      return [{ path, custom: true, message: issue.message }];
    default:
      return [{ path, message: issue.message }];
  }
}


/** Turn zod issues into ConfigIssues with places, dropping follow-on noise. */
export function configIssuesFromZod(issues: readonly ZIssue[], schema: z.ZodType, data: unknown, where: Locator): ConfigIssue[] {
  const msgs = issues.flatMap((i) => messagesFor(i, schema, data));
  // A custom (cross-field) complaint about a node that already has a concrete problem is noise.
  // A missing field that an unknown key (a typo) probably meant is noise too: the typo says it all.
  const kept = msgs.filter(
    (m) =>
      (!m.custom || !msgs.some((o) => !o.custom && sameOrUnder(o.path, m.path))) &&
      !(m.missing && msgs.some((o) => o.meant !== undefined && o.meant === m.path[m.path.length - 1] && sameOrUnder(o.path, m.path.slice(0, -1)) && o.path.length === m.path.length - 1)),
  );
  const seen = new Set<string>();
  const out: ConfigIssue[] = [];
  for (const m of kept) {
    const at = m.key !== undefined ? where.key(m.path, m.key) : where.value(m.missing ? m.path.slice(0, -1) : m.path);
    const issue: ConfigIssue = { ...at, path: formatPath(m.missing && m.path.length > 0 ? m.path.slice(0, -1) : m.path), message: m.message };
    const id = `${issue.file}:${issue.line}:${issue.column}:${issue.path}:${issue.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(issue);
  }
  return out;
}
