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

/** Matches streams against a list of patterns, remembering answers (bounded) so the hot path is one Map lookup. */
export class StreamMatcher {
  private readonly res: RegExp[];
  private readonly cache = new Map<string, boolean>();
  /** A `**` among the patterns: every stream matches, no lookup needed. */
  private readonly all: boolean;

  constructor(patterns: readonly string[], private readonly cacheLimit = 100_000) {
    this.res = patterns.map(patternToRegExp);
    this.all = patterns.includes('**');
  }

  matches(stream: string): boolean {
    if (this.all) return true;
    const hit = this.cache.get(stream);
    if (hit !== undefined) return hit;
    let ok = false;
    for (const re of this.res) if (re.test(stream)) { ok = true; break; }
    if (this.cache.size >= this.cacheLimit) this.cache.clear();
    this.cache.set(stream, ok);
    return ok;
  }
}
