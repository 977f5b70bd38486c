import { distance } from 'fastest-levenshtein';

/**
 * Words people reach for that are not ours, mapped to what we call them. Checked before the edit
 * distance, because "avg" is far from "mean" in letters but not in meaning.
 */
const ALIASES: Record<string, string> = {
  avg: 'mean',
  average: 'mean',
  median: 'p50',
  std: 'stddev',
  stdev: 'stddev',
  sd: 'stddev',
  std_dev: 'stddev',
  minimum: 'min',
  maximum: 'max',
  total: 'sum',
  n: 'count',
  slope: 'rate',
  derivative: 'rate',
  roc: 'rate',
  rate_of_change: 'rate',
  p90: 'p95',
  percentile: 'p95',
  warning: 'warn',
  err: 'error',
  verbose: 'debug',
  fixed: 'tumbling',
  sliding_window: 'sliding',
  gap: 'session',
};

/**
 * The candidate closest to `word`, or undefined when none is close enough to be a likely typo.
 * Case-insensitive exact matches and known aliases win; otherwise the Levenshtein distance must be
 * at most ~40% of the word (at least 1, at most 3).
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0 || word === '') return undefined;
  const lower = word.toLowerCase();
  const exactCase = candidates.find((c) => c.toLowerCase() === lower);
  if (exactCase !== undefined && exactCase !== word) return exactCase;
  const alias = ALIASES[lower.replace(/[\s-]/g, '_')];
  if (alias !== undefined && candidates.includes(alias)) return alias;
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(lower, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  const limit = Math.min(3, Math.max(1, Math.round(word.length * 0.4)));
  if (best !== undefined && best !== word && bestD <= limit) return best;
  return undefined;
}
