/**
 * Topic templates map MQTT topics to stream keys: `sensors/{device}/{metric}` takes the device
 * and metric from topic levels. A level is a literal, `{device}`, `{metric}`, `+` (any, not
 * used) or a final `#` (any number of levels, not used). Placeholders fill whole levels.
 */
type Level = { k: 'lit'; text: string } | { k: 'device' } | { k: 'metric' } | { k: 'any' };

export interface CompiledTemplate {
  template: string;
  levels: Level[];
  /** Ends with `#`. */
  rest: boolean;
  hasDevice: boolean;
  hasMetric: boolean;
  /** The MQTT subscription filter (placeholders as `+`). */
  filter: string;
}

/** Check a template; returns an error message or undefined. */
export function templateError(t: string): string | undefined {
  if (t.length === 0) return 'empty template';
  const levels = t.split('/');
  let device = 0;
  let metric = 0;
  for (const [i, l] of levels.entries()) {
    if (l === '#') {
      if (i !== levels.length - 1) return '"#" is only allowed as the last level';
      continue;
    }
    if (l === '{device}') device++;
    else if (l === '{metric}') metric++;
    else if (l.includes('{') || l.includes('}')) return `level "${l}": placeholders are {device} and {metric} and fill a whole level`;
    else if (l !== '+' && l.includes('#')) return `level "${l}": "#" must be a level of its own`;
    else if (l !== '+' && l.includes('+')) return `level "${l}": "+" must be a level of its own`;
  }
  if (device > 1 || metric > 1) return '{device} and {metric} may each appear once';
  return undefined;
}

export function compileTemplate(t: string): CompiledTemplate {
  const err = templateError(t);
  if (err) throw new Error(`topic template "${t}": ${err}`);
  const raw = t.split('/');
  const rest = raw[raw.length - 1] === '#';
  const levels: Level[] = (rest ? raw.slice(0, -1) : raw).map((l) =>
    l === '{device}' ? { k: 'device' } : l === '{metric}' ? { k: 'metric' } : l === '+' ? { k: 'any' } : { k: 'lit', text: l },
  );
  return {
    template: t,
    levels,
    rest,
    hasDevice: levels.some((l) => l.k === 'device'),
    hasMetric: levels.some((l) => l.k === 'metric'),
    filter: raw.map((l) => (l === '{device}' || l === '{metric}' ? '+' : l)).join('/'),
  };
}

export interface TopicMatch {
  device: string | undefined;
  metric: string | undefined;
}

/** Match a topic (already split into levels) against a template. */
export function matchTemplate(tpl: CompiledTemplate, parts: string[]): TopicMatch | undefined {
  if (tpl.rest ? parts.length < tpl.levels.length : parts.length !== tpl.levels.length) return undefined;
  let device: string | undefined;
  let metric: string | undefined;
  // Per message: i < levels.length <= parts.length (checked above), so the `!` are safe and cheap.
  for (let i = 0; i < tpl.levels.length; i++) {
    const l = tpl.levels[i]!;
    const p = parts[i]!;
    switch (l.k) {
      case 'lit':
        if (p !== l.text) return undefined;
        break;
      case 'device':
        device = p;
        break;
      case 'metric':
        metric = p;
        break;
      default:
        break;
    }
  }
  return { device, metric };
}

/** Does MQTT topic `topic` match filter `filter` (with `+` and `#`)? */
export function topicMatches(filter: string, topic: string): boolean {
  if (filter === '#') return !topic.startsWith('$');
  const f = filter.split('/');
  const t = topic.split('/');
  for (const [i, fl] of f.entries()) {
    if (fl === '#') return !(i === 0 && topic.startsWith('$'));
    if (i >= t.length) return false;
    if (fl === '+') {
      if (i === 0 && topic.startsWith('$')) return false;
      continue;
    }
    if (fl !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Is every topic matched by subscription filter `sub` also matched by ACL filter `acl`? */
export function filterCovers(acl: string, sub: string): boolean {
  // A wildcard in the first level does not match `$` topics (MQTT 4.7.2): `#` must not cover `$SYS/#`.
  if (sub.startsWith('$') && (acl.startsWith('+') || acl.startsWith('#'))) return false;
  const a = acl.split('/');
  const s = sub.split('/');
  for (const [i, al] of a.entries()) {
    if (al === '#') return true;
    const sl = s[i];
    if (sl === undefined || sl === '#') return false;
    if (al === '+') continue;
    if (sl === '+' || al !== sl) return false;
  }
  return a.length === s.length;
}

/** A topic cut for logs, drop details and errors (a topic may be as long as a packet). */
export function shortTopic(topic: string): string {
  return topic.length <= 200 ? topic : `${topic.slice(0, 200)}… (${topic.length} chars)`;
}

