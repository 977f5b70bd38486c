/**
 * A YAML config file as text, a document (with node positions) and plain data. Maps a data path
 * (`['steps', 2, 'window', 'size']`) back to a line and column, and turns YAML syntax errors into
 * ConfigIssues.
 */
import { LineCounter, parseDocument, isMap, isScalar, isSeq, type Document, type Node, type Pair } from 'yaml';
import type { ConfigIssue } from './errors.js';
import { formatPath, type PathSeg } from './zod-walk.js';

export interface YamlSource {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
  /** Problems with the YAML itself (syntax, tabs, indentation, duplicate keys). */
  syntaxIssues: ConfigIssue[];
  /** Plain data (undefined for an empty file); only meaningful when syntaxIssues is empty. */
  data: unknown;
}

export interface Position {
  line: number;
  column: number;
}

const FRIENDLY: Record<string, string> = {
  TAB_AS_INDENT: 'tabs are not allowed for indentation in YAML; indent with spaces',
  BLOCK_AS_IMPLICIT_KEY: 'a nested mapping cannot start on the same line as its key (move it to the next line, indented, or quote the value if it contains ": ")',
  MULTIPLE_DOCS: 'a config file holds one YAML document; remove the extra ---',
};

function keyText(k: unknown): string | undefined {
  if (isScalar(k)) return String(k.value);
  return undefined;
}

/** Find the pair whose key starts at `offset`, with the data path of the mapping holding it. */
function findPairByKeyOffset(node: unknown, offset: number, path: PathSeg[]): { path: PathSeg[]; pair: Pair } | undefined {
  if (isMap(node)) {
    for (const p of node.items) {
      const k = p.key as Node | null;
      if (k && k.range && k.range[0] === offset) return { path, pair: p };
      const key = keyText(p.key);
      const r = findPairByKeyOffset(p.value, offset, key === undefined ? path : [...path, key]);
      if (r) return r;
    }
  } else if (isSeq(node)) {
    for (let i = 0; i < node.items.length; i++) {
      const r = findPairByKeyOffset(node.items[i], offset, [...path, i]);
      if (r) return r;
    }
  }
  return undefined;
}

function firstKeyLine(node: unknown, key: string, lines: LineCounter): number | undefined {
  if (!isMap(node)) return undefined;
  const first = node.items.find((p) => keyText(p.key) === key);
  const r = (first?.key as Node | undefined)?.range;
  return r ? lines.linePos(r[0]).line : undefined;
}

export function parseYamlSource(text: string, file: string): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, merge: true });
  const syntaxIssues: ConfigIssue[] = [];
  for (const e of doc.errors) {
    const { line, col } = lines.linePos(e.pos[0]);
    if (e.code === 'DUPLICATE_KEY') {
      const found = findPairByKeyOffset(doc.contents, e.pos[0], []);
      const key = found ? keyText(found.pair.key) : undefined;
      let container: unknown = doc.contents;
      for (const seg of found?.path ?? []) container = isMap(container) ? container.get(seg, true) : isSeq(container) ? container.get(seg, true) : undefined;
      const first = key !== undefined ? firstKeyLine(container, key, lines) : undefined;
      syntaxIssues.push({
        file,
        line,
        column: col,
        path: found ? formatPath(found.path) : '',
        message: `duplicate key${key !== undefined ? ` "${key}"` : ''}${first !== undefined && first !== line ? ` (first set on line ${first})` : ''}; a key may appear only once in a mapping`,
      });
      continue;
    }
    const friendly = FRIENDLY[e.code];
    const message = friendly ?? `YAML syntax: ${e.message.charAt(0).toLowerCase()}${e.message.slice(1)}`;
    syntaxIssues.push({ file, line, column: col, path: '', message });
  }
  const data = syntaxIssues.length === 0 ? doc.toJS({ maxAliasCount: 1000 }) : undefined;
  return { file, doc, lines, syntaxIssues, data: data === null ? undefined : data };
}

function pos(src: YamlSource, node: Node | null | undefined): Position | undefined {
  const r = node?.range;
  if (!r) return undefined;
  const { line, col } = src.lines.linePos(r[0]);
  return { line, column: col };
}

/** Walk the document along `path`; returns the nodes met (the last one is the deepest that exists). */
function walk(src: YamlSource, path: readonly PathSeg[]): { node: Node | null; keyNode?: Node | null; depth: number }[] {
  const out: { node: Node | null; keyNode?: Node | null; depth: number }[] = [{ node: src.doc.contents as Node | null, depth: 0 }];
  let cur: unknown = src.doc.contents;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    if (isMap(cur)) {
      const pair = cur.items.find((p) => keyText(p.key) === String(seg));
      if (!pair) break;
      out.push({ node: pair.value as Node | null, keyNode: pair.key as Node | null, depth: i + 1 });
      cur = pair.value;
    } else if (isSeq(cur) && typeof seg === 'number') {
      const item = cur.items[seg] as Node | undefined;
      if (item === undefined) break;
      out.push({ node: item, depth: i + 1 });
      cur = item;
    } else break;
  }
  return out;
}

function fallback(src: YamlSource): Position {
  return pos(src, src.doc.contents as Node | null) ?? { line: 1, column: 1 };
}

/** Where the value at `path` is (or, when it is missing, the mapping that should hold it). */
export function positionOf(src: YamlSource, path: readonly PathSeg[]): Position & { exact: boolean } {
  const met = walk(src, path);
  for (let i = met.length - 1; i >= 0; i--) {
    const m = met[i]!;
    // `key:` with no value: point at the key.
    const p = (m.node && !(isScalar(m.node) && m.node.value === null) ? pos(src, m.node) : undefined) ?? pos(src, m.keyNode);
    if (p) return { ...p, exact: m.depth === path.length };
  }
  return { ...fallback(src), exact: false };
}

/** Where the key `key` of the mapping at `path` is (for unknown keys). */
export function keyPositionOf(src: YamlSource, path: readonly PathSeg[], key: string): Position {
  const met = walk(src, path);
  const last = met[met.length - 1]!;
  if (last.depth === path.length && isMap(last.node)) {
    const pair = last.node.items.find((p) => keyText(p.key) === key);
    const p = pos(src, pair?.key as Node | null | undefined);
    if (p) return p;
  }
  return positionOf(src, path);
}
