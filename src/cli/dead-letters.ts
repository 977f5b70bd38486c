import type { Command } from 'commander';
import { parseDuration } from '../core/duration.js';
import { readDeadLetters, type DeadLetter } from '../runtime/outbox-file.js';
import { gatewayTarget, getJson, type TargetFlags } from './gateway-target.js';
import { textTable } from './text-table.js';

interface Flags extends TargetFlags {
  since?: string;
  input?: string;
  json?: boolean;
  limit: string;
}

/** `--since 1h` (that long ago) or an ISO 8601 time → ms since epoch. */
export function parseSince(text: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?(ms|s|m|h|d)$/.test(text.trim())) return now - parseDuration(text);
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new Error(`--since ${text}: expected a duration (30m, 2h, 1d) or a time (2026-03-01T12:00:00Z)`);
  return t;
}

export function register(program: Command): void {
  program
    .command('dead-letters')
    .description("What the gateway refused (unparseable payloads, unknown topics, NaN values, …): when, where, why, with a sample. Newest first.")
    .option('-c, --config <file>', 'the gateway config (finds its HTTP server or its data dir); default $EDGEWISE_CONFIG')
    .option('--url <url>', "the running gateway's HTTP server, e.g. http://127.0.0.1:9464")
    .option('--token <token>', 'bearer token of the HTTP server (http.token)')
    .option('--data-dir <dir>', "the gateway's data dir: read its outbox.db directly (works while it is stopped)")
    .option('--since <when>', 'only those refused since then: a duration ago (30m, 2h, 1d) or a time (ISO 8601)')
    .option('--input <name>', 'only those of this input (or pipeline)')
    .option('-n, --limit <n>', 'at most this many', '50')
    .option('--json', 'JSON lines instead of a table')
    .action(async (f: Flags) => {
      const since = f.since ? parseSince(f.since) : undefined;
      const limit = Number(f.limit);
      if (!Number.isInteger(limit) || limit <= 0) throw new Error(`--limit ${f.limit}: expected a whole number greater than 0`);
      const target = gatewayTarget(f);
      const q = new URLSearchParams({ limit: String(limit), ...(since !== undefined ? { since: String(since) } : {}), ...(f.input ? { source: f.input } : {}) });
      let rows = await getJson<DeadLetter[]>(target, `api/dead-letters?${q}`);
      if (!rows) {
        if (!target.outboxFile) throw new Error(`no gateway answers at ${target.url}; give --data-dir or --config to read its outbox file instead`);
        rows = readDeadLetters(target.outboxFile, { since, source: f.input, limit });
      }
      if (f.json) {
        for (const r of rows) process.stdout.write(`${JSON.stringify({ ...r, time: r.at ? new Date(r.at).toISOString() : null })}\n`);
        return;
      }
      if (rows.length === 0) {
        process.stdout.write('No dead letters.\n');
        return;
      }
      process.stdout.write(
        `${textTable(
          ['time (UTC)', 'source', 'reason', 'detail', 'sample'],
          rows.map((r) => [r.at ? new Date(r.at).toISOString().replace('T', ' ').slice(0, 23) : 'unknown', r.source, r.reason, cut(r.detail ?? '', 60), cut(r.sample, 50)]),
        )}\n`,
      );
    });
}

function cut(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ');
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}
