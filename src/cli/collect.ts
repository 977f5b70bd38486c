import { Option, type Command } from 'commander';
import { hostname } from 'node:os';
import { Collector } from '../collect/collector.js';
import { PgSink } from '../collect/sink.js';
import { stopOnSignals } from './stop-signals.js';
import { createLogger, type LogLevel } from '../core/log.js';

interface CollectOptions {
  broker: string;
  db: string;
  group?: string;
  topics: string;
  clientId?: string;
  schema: string;
  sessionExpiry: string;
  batch: string;
  protocol: string;
  statsEvery: string;
  username?: string;
  password?: string;
  logLevel: LogLevel;
}

function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a whole number ≥ 1, got "${v}"`);
  return n;
}

export function register(program: Command): void {
  program
    .command('collect')
    .description('Land gateways\' upstream messages in PostgreSQL exactly once (see docs/collect.md). SIGINT or SIGTERM stop it cleanly.')
    .requiredOption('--broker <url>', 'MQTT broker URL (MQTT 5), e.g. mqtt://broker:1883', process.env.EDGEWISE_COLLECT_BROKER)
    .requiredOption('--db <url>', 'PostgreSQL connection string, e.g. postgres://user:pass@host/db', process.env.EDGEWISE_COLLECT_DB)
    .option('--group <name>', 'shared-subscription group: collectors with the same group share the load')
    .option('--topics <prefix>', 'topic prefix of the gateways (upstream.topic_prefix)', 'edgewise/v1')
    .option('--client-id <id>', 'MQTT client id, fixed per collector: the broker keeps its session under it (default: edgewise-collect-<host>[-<group>])')
    .option('--schema <name>', 'PostgreSQL schema for the tables', 'edgewise')
    .option('--session-expiry <seconds>', 'how long the broker keeps the session (and unacknowledged messages) while the collector is away', '86400')
    .option('--batch <n>', 'most messages per transaction', '500')
    .addOption(new Option('--protocol <version>', 'MQTT protocol: 5, or 4 (3.1.1) for brokers without MQTT 5 such as aedes (then no --group)').choices(['4', '5']).default('5'))
    .option('--username <name>', 'broker user name', process.env.EDGEWISE_COLLECT_USERNAME)
    .option('--password <password>', 'broker password (or EDGEWISE_COLLECT_PASSWORD)', process.env.EDGEWISE_COLLECT_PASSWORD)
    .option('--stats-every <seconds>', 'log the counters this often (0: never)', '60')
    .option('--log-level <level>', 'trace, debug, info, warn, error', 'info')
    .action(async (o: CollectOptions) => {
      const log = createLogger({ level: o.logLevel });
      const sink = new PgSink(o.db, o.schema);
      const collector = new Collector({
        broker: o.broker,
        sink,
        clientId: o.clientId ?? `edgewise-collect-${hostname()}${o.group ? `-${o.group}` : ''}`,
        group: o.group,
        prefix: o.topics.replace(/\/+$/, ''),
        sessionExpiry: positiveInt(o.sessionExpiry, '--session-expiry'),
        maxBatch: positiveInt(o.batch, '--batch'),
        protocolVersion: o.protocol === '4' ? 4 : 5,
        statsEveryMs: Number(o.statsEvery) * 1000 || 0,
        username: o.username,
        password: o.password,
        log,
      });
      stopOnSignals(
        log,
        async () => {
          await collector.stop();
          await sink.close();
        },
        () => ({ ...collector.stats() }),
      );
      let step = 'PostgreSQL (--db): connecting and creating the tables';
      try {
        await sink.init();
        step = `broker ${o.broker} (--broker): subscribing`;
        await collector.start();
      } catch (err) {
        log.fatal({ err: (err as Error).message }, `collector failed to start at ${step}`);
        await collector.stop().catch(() => {});
        await sink.close().catch(() => {});
        process.exit(1);
      }
      log.info({ group: o.group ?? null, topics: o.topics }, 'collecting');
    });
}
