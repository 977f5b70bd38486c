import type { Command } from 'commander';
import { stopOnSignals } from './stop-signals.js';
import { resolve } from 'node:path';
import type { LoadedGateway } from '../config/load.js';
import { loadGatewayFileInChild } from '../config/load-in-child.js';
import { createLogger } from '../core/log.js';
import { LiveState } from '../http/live.js';
import type { HttpServer } from '../http/server.js';
import { watchConfigFiles } from '../runtime/config-watch.js';
import { Gateway, type GatewayStats } from '../runtime/gateway.js';
import { Reloader, type ReloadChanges } from '../runtime/reload.js';
import { startStatsLog } from '../runtime/stats-log.js';
import { startStatsUpstream } from '../runtime/stats-upstream.js';

export function register(program: Command): void {
  program
    .command('run')
    .description('Start a gateway: inputs → pipelines → outbox → upstream. SIGINT or SIGTERM stop it cleanly; SIGHUP reloads the config and pipelines.')
    .requiredOption('-c, --config <file>', 'gateway config (YAML); every setting can be overridden with EDGEWISE_... variables', process.env.EDGEWISE_CONFIG)
    .addHelpText('after', '\nSee docs/configuration.md for every setting and the EDGEWISE_... environment overrides, docs/operations.md for metrics, health, the dashboard and reload.')
    .action(async (o: { config: string }) => {
      const file = resolve(o.config);
      const { config, pipelines, dir } = await loadGatewayFileInChild(file, process.env);
      const log = createLogger({ level: config.log.level, format: config.log.format });
      // Operations: live alerts and charts, metrics, health and the dashboard (docs/operations.md).
      const live = new LiveState();
      let started = false;
      let server: HttpServer | undefined;
      const gateway = new Gateway({
        config,
        pipelines: pipelines.map((p) => p.spec),
        baseDir: dir,
        log,
        onEmission: (e) => live.onEmission(e),
        // Every judgement feeds the charts and the score histogram: only when something serves them.
        onDetect: config.http
          ? (pipeline, e) => {
              live.onDetect(pipeline, e);
              server?.observeScore(pipeline, e.step, e.stream, e.score);
            }
          : undefined,
      });
      // Reload (docs/operations.md#reload): SIGHUP, POST /reload, and the file watch when asked for.
      let stopStatsLog = () => {};
      let stopStatsUpstream = () => {};
      let stopWatch = () => {};
      const reloader = new Reloader({ load: () => loadGatewayFileInChild(file, process.env), gateway, log, onSwapped: (l, changes) => runOps(l, changes) });
      const stats = (): GatewayStats => ({ ...gateway.stats(), reloads: { ...reloader.counts } });
      /** What run.ts itself runs from the config: the stats timers, the file watch; after a reload, what the dashboard shows of gone detectors. */
      const runOps = (l: Pick<LoadedGateway, 'config' | 'pipelines'>, changes?: ReloadChanges) => {
        const c = l.config;
        stopStatsLog();
        stopStatsLog = startStatsLog({ everyMs: c.stats_log, stats, alertsActive: () => live.activeAlerts().length, log });
        stopStatsUpstream();
        const uplink = gateway.uplink;
        if (uplink) stopStatsUpstream = startStatsUpstream({ everyMs: c.stats_upstream, stats, alertsActive: () => live.activeBySeverity(), publish: (name, p) => uplink.publishRetained(name, p), log });
        stopWatch();
        stopWatch = () => {};
        if (c.reload.watch) {
          const files = l.pipelines.map((p) => resolve(p.file));
          stopWatch = watchConfigFiles(file, files, (changed) => void reloader.reload(`file change: ${changed}`));
          log.info({ files: [resolve(file), ...files] }, 'reload: watching the config and pipeline files for changes');
        }
        for (const name of changes?.pipelines.removed ?? []) live.forget(name);
        for (const r of changes?.pipelines.rebuilt ?? []) live.forget(r.name, (detector) => r.kept.includes(`detect:${detector}`));
      };
      // Loaded only when configured: prom-client stays out of a gateway that does not serve metrics.
      if (config.http) server = new (await import('../http/server.js')).HttpServer({ settings: config.http, gatewayId: config.gateway.id, stats, steps: () => gateway.stepStatus(), live, started: () => started, log: log.child({ part: 'http' }), reload: () => reloader.reload('POST /reload') });
      const signals = stopOnSignals(log, async () => {
        stopStatsLog();
        stopStatsUpstream();
        stopWatch();
        await gateway.stop();
        await server?.close();
      });
      process.on('SIGHUP', () => {
        if (started && !signals.stopping) void reloader.reload('SIGHUP');
        else log.warn('SIGHUP ignored: the gateway is starting or stopping');
      });
      try {
        await server?.listen(); // first: /healthz answers while inputs open
        await gateway.start();
        started = true;
        runOps({ config, pipelines });
      } catch (err) {
        log.fatal({ err: (err as Error).message }, 'gateway failed to start');
        await gateway.stop().catch(() => {});
        await server?.close().catch(() => {});
        process.exit(1);
      }
    });
}
