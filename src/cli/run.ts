import type { Command } from 'commander';
import { resolve } from 'node:path';
import { loadGatewayFileInChild } from '../config/load-in-child.js';
import { createLogger } from '../core/log.js';
import { Gateway } from '../runtime/gateway.js';

export function register(program: Command): void {
  program
    .command('run')
    .description('Start a gateway: inputs → pipelines → outbox → upstream. SIGINT or SIGTERM stop it cleanly.')
    .requiredOption('-c, --config <file>', 'gateway config (YAML); every setting can be overridden with EDGEWISE_... variables', process.env.EDGEWISE_CONFIG)
    .addHelpText('after', '\nSee docs/configuration.md for every setting and the EDGEWISE_... environment overrides.')
    .action(async (o: { config: string }) => {
      const file = resolve(o.config);
      const { config, pipelines, dir } = await loadGatewayFileInChild(file, process.env);
      const log = createLogger({ level: config.log.level, format: config.log.format });
      const gateway = new Gateway({ config, pipelines: pipelines.map((p) => p.spec), baseDir: dir, log });
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) {
          log.warn({ signal }, 'second signal: exiting now');
          process.exit(130);
        }
        stopping = true;
        log.info({ signal }, 'stopping');
        try {
          await gateway.stop();
          process.exit(0);
        } catch (err) {
          log.error({ err: (err as Error).message }, 'stop failed');
          process.exit(1);
        }
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
      try {
        await gateway.start();
      } catch (err) {
        log.fatal({ err: (err as Error).message }, 'gateway failed to start');
        await gateway.stop().catch(() => {});
        process.exit(1);
      }
    });
}
