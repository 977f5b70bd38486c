import type { Command } from 'commander';
import { resolve } from 'node:path';
import { loadGatewayFileInChild } from '../config/load-in-child.js';
import { createLogger } from '../core/log.js';
import { LiveState } from '../http/live.js';
import type { HttpServer } from '../http/server.js';
import { Gateway } from '../runtime/gateway.js';
import { startStatsLog } from '../runtime/stats-log.js';
import { startStatsUpstream } from '../runtime/stats-upstream.js';

export function register(program: Command): void {
  program
    .command('run')
    .description('Start a gateway: inputs → pipelines → outbox → upstream. SIGINT or SIGTERM stop it cleanly.')
    .requiredOption('-c, --config <file>', 'gateway config (YAML); every setting can be overridden with EDGEWISE_... variables', process.env.EDGEWISE_CONFIG)
    .addHelpText('after', '\nSee docs/configuration.md for every setting and the EDGEWISE_... environment overrides, docs/operations.md for metrics, health and the dashboard.')
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
      // Loaded only when configured: prom-client stays out of a gateway that does not serve metrics.
      if (config.http) server = new (await import('../http/server.js')).HttpServer({ settings: config.http, gatewayId: config.gateway.id, stats: () => gateway.stats(), live, started: () => started, log: log.child({ part: 'http' }) });
      let stopStatsLog = () => {};
      let stopStatsUpstream = () => {};
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) {
          log.warn({ signal }, 'second signal: exiting now');
          process.exit(130);
        }
        stopping = true;
        log.info({ signal }, 'stopping');
        try {
          stopStatsLog();
          stopStatsUpstream();
          await gateway.stop();
          await server?.close();
          process.exit(0);
        } catch (err) {
          log.error({ err: (err as Error).message }, 'stop failed');
          process.exit(1);
        }
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
      try {
        await server?.listen(); // first: /healthz answers while inputs open
        await gateway.start();
        started = true;
        stopStatsLog = startStatsLog({ everyMs: config.stats_log, stats: () => gateway.stats(), alertsActive: () => live.activeAlerts().length, log });
        if (gateway.uplink) {
          const uplink = gateway.uplink;
          stopStatsUpstream = startStatsUpstream({ everyMs: config.stats_upstream, stats: () => gateway.stats(), alertsActive: () => live.activeBySeverity(), publish: (name, p) => uplink.publishRetained(name, p), log });
        }
      } catch (err) {
        log.fatal({ err: (err as Error).message }, 'gateway failed to start');
        await gateway.stop().catch(() => {});
        await server?.close().catch(() => {});
        process.exit(1);
      }
    });
}
