// Stream patterns, shared by pipelines and drivers: `*` matches any run of characters except `/`,
// `**` matches anything, `?` one character except `/`, everything else matches itself.
// Examples: `pump-*/vibration`, `*/temperature`, `**`.
export function patternToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Matches streams against a list of patterns, remembering answers so the hot path is one Map
 * lookup. The memory is two generations of at most `cacheLimit` streams each: when the newer is
 * full it becomes the older and the old one is dropped, so streams seen lately stay remembered and
 * those of devices long gone are forgotten (≤ ~75 B a stream).
 */
export class StreamMatcher {
  private readonly res: RegExp[];
  private cache = new Map<string, boolean>();
  private older = new Map<string, boolean>();
  /** A `**` among the patterns: every stream matches, no lookup needed. */
  private readonly all: boolean;

  constructor(patterns: readonly string[], private readonly cacheLimit = 16_384) {
    this.res = patterns.map(patternToRegExp);
    this.all = patterns.includes('**');
  }

  matches(stream: string): boolean {
    if (this.all) return true;
    const hit = this.cache.get(stream);
    if (hit !== undefined) return hit;
    let ok = this.older.get(stream);
    if (ok === undefined) {
      ok = false;
      for (const re of this.res) if (re.test(stream)) { ok = true; break; }
    }
    if (this.cache.size >= this.cacheLimit) {
      this.older = this.cache;
      this.cache = new Map();
    }
    this.cache.set(stream, ok);
    return ok;
  }

  /** Streams remembered. */
  get remembered(): number {
    return this.cache.size + this.older.size;
  }
}
