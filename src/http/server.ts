import { createHash, timingSafeEqual } from 'node:crypto';
import { accessSync, constants, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from '../core/log.js';
import type { AlertRecord } from '../core/records.js';
import type { StepStatus } from '../engine/pipeline.js';
import type { GatewayStats } from '../runtime/gateway.js';
import { readDeadLetters } from '../runtime/outbox-file.js';
import type { ReloadReport } from '../runtime/reload.js';
import { dropsByReason } from '../runtime/stats-log.js';
import { linkSummary } from '../upstream/link-summary.js';
import type { LiveState, Series } from './live.js';
import { createMetrics } from './metrics.js';

/** Settings of the server (the `http:` section of the gateway config, parsed). */
export interface HttpSettings {
  host: string;
  port: number;
  token?: string;
  dashboard: boolean;
  metrics: { per_stream: boolean };
}

export interface HttpServerOptions {
  settings: HttpSettings;
  gatewayId: string;
  stats: () => GatewayStats;
  /** The operator steps' status rows (Gateway.stepStatus); none without it. */
  steps?: () => StepStatus[];
  live: LiveState;
  /** True once the gateway has started (inputs opened). */
  started: () => boolean;
  log: Logger;
  /** How often the dashboard's event stream sends an update. */
  pushEveryMs?: number;
  /** POST /reload: reload the config and pipelines (src/runtime/reload.ts). */
  reload?: () => Promise<ReloadReport>;
}

/** POST /reload's status by result: invalid config 422, settings that need a restart 409, an input that failed to start 500. */
const RELOAD_STATUS: Record<ReloadReport['result'], number> = { applied: 200, invalid: 422, refused: 409, failed: 500 };

/** What `GET /api/status` answers (and `edgewise status` prints). */
export interface StatusReport {
  gateway: string;
  time: number;
  uptimeSeconds: number;
  ready: Readiness;
  stats: GatewayStats;
  dropped: Record<string, number>;
  alerts: { active: AlertRecord[]; recentlyCleared: AlertRecord[] };
  /** Where each operator step's vehicles, patients or devices stand (the first rows of each). */
  steps: StepStatus[];
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail: string }>;
}

/** Ready: started, every input up, and the outbox's folder writable. The uplink is reported, not required: buffering while it is down is the job. */
export function readiness(started: boolean, s: GatewayStats): Readiness {
  const checks: Readiness['checks'] = {};
  checks.started = { ok: started, detail: started ? 'running' : 'starting' };
  for (const i of s.inputs ?? []) {
    const ok = i.state === 'up'; // degraded too is not ready: e.g. an MQTT client input that lost its broker
    checks[`input:${i.name}`] = { ok, detail: i.detail ? `${i.state}: ${i.detail}` : i.state };
  }
  if (s.outbox) {
    let ok = true;
    let detail = `${s.outbox.depth?.messages ?? 0} messages buffered`;
    try {
      accessSync(dirname(s.outbox.path), constants.W_OK);
    } catch (err) {
      ok = false;
      detail = `${dirname(s.outbox.path)} is not writable: ${(err as Error).message}`;
    }
    checks.outbox = { ok, detail };
  }
  if (s.upstream) checks.upstream = { ok: true, detail: linkSummary(s.upstream) };
  return { ready: Object.values(checks).every((c) => c.ok), checks };
}

const ASSETS: Record<string, string> = { '/': 'index.html', '/index.html': 'index.html', '/app.js': 'app.js', '/style.css': 'style.css' };
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

/**
 * The gateway's one HTTP server: /metrics (Prometheus), /healthz, /readyz, the dashboard (/) and
 * its JSON API (/api/status, /api/events, /api/dead-letters). Plain node:http: a handful of routes.
 */
export class HttpServer {
  private readonly server: http.Server;
  private readonly metrics: ReturnType<typeof createMetrics>;
  private readonly tokenHash?: Buffer;
  /** performance.now() at start: uptime on the monotonic clock (a wall clock stepped by NTP would make it jump). */
  private readonly startedAt = performance.now();
  private readonly streams = new Set<http.ServerResponse>();
  private pushTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: HttpServerOptions) {
    this.metrics = createMetrics({ stats: opts.stats, live: opts.live, perStream: opts.settings.metrics.per_stream });
    if (opts.settings.token) this.tokenHash = sha256(opts.settings.token);
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        opts.log.warn({ err: (err as Error).message, path: (req.url ?? '').split('?')[0] }, 'http: request failed'); // not the query: it may hold the token
        if (!res.headersSent) send(res, 500, { error: (err as Error).message });
        else res.end();
      });
    });
  }

  /** The detector score histogram's hook (pass it to the gateway's onDetect). */
  get observeScore() {
    return this.metrics.observeScore;
  }

  async listen(): Promise<AddressInfo> {
    const { host, port } = this.opts.settings;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        reject(new Error(`http: cannot listen on ${host}:${port} (${err.code ?? err.message}); choose another http.port, or free it`));
      };
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    const addr = this.server.address() as AddressInfo;
    this.opts.log.info({ host: addr.address, port: addr.port, dashboard: this.opts.settings.dashboard, token: !!this.tokenHash }, `http: metrics, health${this.opts.settings.dashboard ? ' and dashboard' : ''} on http://${addr.address}:${addr.port}/`);
    this.pushTimer = setInterval(() => this.push(), this.opts.pushEveryMs ?? 1000);
    this.pushTimer.unref();
    return addr;
  }

  address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    if (this.pushTimer) clearInterval(this.pushTimer);
    for (const res of this.streams) res.end();
    this.streams.clear();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private uptimeSeconds(): number {
    return Math.round((performance.now() - this.startedAt) / 1000);
  }

  status(): StatusReport {
    const stats = this.opts.stats();
    return {
      gateway: this.opts.gatewayId,
      time: Date.now(),
      uptimeSeconds: this.uptimeSeconds(),
      ready: readiness(this.opts.started(), stats),
      stats,
      dropped: dropsByReason(stats),
      alerts: { active: this.opts.live.activeAlerts(), recentlyCleared: this.opts.live.recentlyCleared() },
      steps: this.opts.steps?.() ?? [],
    };
  }

  private authorized(req: http.IncomingMessage, url: URL): boolean {
    if (!this.tokenHash) return true;
    const header = req.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : (url.searchParams.get('token') ?? '');
    // Compare digests: equal length, constant time.
    return timingSafeEqual(sha256(given), this.tokenHash);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const post = req.method === 'POST' && url.pathname === '/reload';
    if (!post && req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: `${req.method} is not supported; use GET` }, { allow: 'GET, HEAD' });
    if (url.pathname === '/healthz') return send(res, 200, { status: 'ok', gateway: this.opts.gatewayId, uptimeSeconds: this.uptimeSeconds() });
    // The dashboard's files hold no data (it comes from /api/events, with the token): served to anyone.
    const asset = this.opts.settings.dashboard ? ASSETS[url.pathname] : undefined;
    if (asset) return this.asset(res, asset);
    if (!this.authorized(req, url)) return send(res, 401, { error: 'missing or wrong bearer token (Authorization: Bearer <http.token>)' }, { 'www-authenticate': 'Bearer' });
    switch (url.pathname) {
      case '/reload': {
        if (!this.opts.reload) break;
        if (!post) return send(res, 405, { error: 'use POST /reload' }, { allow: 'POST' });
        req.resume(); // no body is read
        const r = await this.opts.reload();
        return send(res, RELOAD_STATUS[r.result], r);
      }
      case '/readyz': {
        const r = readiness(this.opts.started(), this.opts.stats());
        return send(res, r.ready ? 200 : 503, r);
      }
      case '/metrics': {
        const body = await this.metrics.registry.metrics();
        res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
        res.end(body);
        return;
      }
      case '/api/status':
        return send(res, 200, this.status());
      case '/api/series':
        return send(res, 200, this.opts.live.allSeries());
      case '/api/dead-letters': {
        const bad = ['since', 'limit'].find((k) => url.searchParams.has(k) && !/^\d+$/.test(url.searchParams.get(k)!));
        if (bad) return send(res, 400, { error: `${bad}=${url.searchParams.get(bad)}: expected a whole number (since: ms since the epoch)` });
        return send(res, 200, this.deadLetters(url));
      }
      case '/api/events':
        if (!this.opts.settings.dashboard) break;
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        this.streams.add(res);
        res.on('close', () => this.streams.delete(res));
        res.write(this.event());
        return;
    }
    send(res, 404, { error: `no such path: ${url.pathname}`, paths: ['/metrics', '/healthz', '/readyz', '/api/status', '/api/dead-letters', ...(this.opts.reload ? ['POST /reload'] : []), ...(this.opts.settings.dashboard ? ['/'] : [])] });
  }

  private deadLetters(url: URL) {
    const file = this.opts.stats().outbox?.path;
    if (!file) return [];
    const since = url.searchParams.get('since');
    const limit = url.searchParams.get('limit');
    return readDeadLetters(file, { since: since ? Number(since) : undefined, source: url.searchParams.get('source') ?? undefined, limit: limit ? Number(limit) : undefined });
  }

  /** One dashboard update: the status, and the series with points as [ts, value, score, alert 0/1] (a third of the bytes of objects). */
  private event(): string {
    const series = this.opts.live.allSeries().map((x: Series) => ({ ...x, points: x.points.map((p) => [p.ts, p.value, p.score, p.alert ? 1 : 0]) }));
    return `data: ${JSON.stringify({ ...this.status(), series })}\n\n`;
  }

  private push(): void {
    if (this.streams.size === 0) return;
    const ev = this.event();
    for (const res of this.streams) res.write(ev);
  }

  private asset(res: http.ServerResponse, name: string): void {
    const body = readFileSync(new URL(`./dashboard/${name}`, import.meta.url));
    res.writeHead(200, { 'content-type': TYPES[name.split('.').pop() ?? ''] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
    res.end(body);
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}
