import { join, resolve } from 'node:path';
import { loadGatewayFile } from '../config/load.js';

/** Where a command finds a gateway: its HTTP server, and/or its outbox file (the data dir). */
export interface GatewayTarget {
  url?: string;
  token?: string;
  /** The outbox SQLite file (dead letters, buffered messages). */
  outboxFile?: string;
  dataDir?: string;
}

export interface TargetFlags {
  url?: string;
  token?: string;
  dataDir?: string;
  config?: string;
}

/**
 * From the flags: `--url` (the HTTP server), `--data-dir` (outbox.db in it), or `--config` (both,
 * from the gateway config: http.host/port/token, gateway.data_dir and outbox.path). The config is
 * also taken from EDGEWISE_CONFIG, as `edgewise run` does.
 */
export function gatewayTarget(f: TargetFlags, env: NodeJS.ProcessEnv = process.env): GatewayTarget {
  const t: GatewayTarget = { url: f.url, token: f.token ?? env.EDGEWISE_HTTP__TOKEN };
  if (f.dataDir) {
    t.dataDir = resolve(f.dataDir);
    t.outboxFile = join(t.dataDir, 'outbox.db');
  }
  const config = f.config ?? (f.url || f.dataDir ? undefined : env.EDGEWISE_CONFIG);
  if (config) {
    const g = loadGatewayFile(config, env);
    const c = g.config;
    const dataDir = resolve(g.dir, c.gateway.data_dir);
    t.dataDir ??= dataDir;
    t.outboxFile ??= resolve(dataDir, c.outbox?.path ?? 'outbox.db');
    if (c.http && !t.url) {
      const host = c.http.host === '0.0.0.0' || c.http.host === '::' ? '127.0.0.1' : c.http.host;
      t.url = `http://${host.includes(':') ? `[${host}]` : host}:${c.http.port}`;
    }
    t.token ??= c.http?.token;
  }
  if (!t.url && !t.outboxFile) t.url = 'http://127.0.0.1:9464';
  return t;
}

/** GET a JSON path from the gateway's HTTP server; undefined when nothing answers there. */
export async function getJson<T>(t: GatewayTarget, path: string): Promise<T | undefined> {
  if (!t.url) return undefined;
  let res: Response;
  try {
    res = await fetch(new URL(path, t.url.endsWith('/') ? t.url : `${t.url}/`), { headers: t.token ? { authorization: `Bearer ${t.token}` } : {}, signal: AbortSignal.timeout(5000) });
  } catch {
    return undefined;
  }
  if (res.status === 401) throw new Error(`${t.url}: the gateway wants a bearer token (--token, EDGEWISE_HTTP__TOKEN, or --config with its http.token)`);
  if (!res.ok) throw new Error(`${t.url}${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
