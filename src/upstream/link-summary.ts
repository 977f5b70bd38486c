import type { UpstreamStats } from './index.js';

/**
 * The uplink's state in a phrase, for /readyz and `edgewise status`: the last error is the reason
 * while the link is down; once it is up again, the error is history and says when it happened
 * (until 2026-12-07 an uplink back online read "online: connect ECONNREFUSED …").
 */
export function linkSummary(u: Pick<UpstreamStats, 'state' | 'lastError' | 'lastErrorAt'>): string {
  if (!u.lastError) return u.state;
  if (u.state !== 'online') return `${u.state} (${u.lastError})`;
  const at = u.lastErrorAt === undefined ? '' : ` at ${new Date(u.lastErrorAt).toISOString()}`;
  return `online (last error${at}: ${u.lastError})`;
}
