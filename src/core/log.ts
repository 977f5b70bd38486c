import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';

// pino-pretty is loaded only for pretty output (a terminal), not on a gateway logging JSON.
const require = createRequire(import.meta.url);

export type { Logger };
type LogFormat = 'auto' | 'json' | 'pretty';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface LogOptions {
  level?: LogLevel;
  /** `auto`: pretty when stderr is a terminal, JSON lines otherwise. */
  format?: LogFormat;
  /** Where to write; default stderr (stdout is kept for data, e.g. `edgewise replay`). */
  destination?: NodeJS.WritableStream;
}

/** Structured logs (pino): JSON lines for machines, pretty on a terminal. */
export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? (process.env.EDGEWISE_LOG_LEVEL as LogLevel | undefined) ?? 'info';
  const format = opts.format ?? (process.env.EDGEWISE_LOG_FORMAT as LogFormat | undefined) ?? 'auto';
  const dest = opts.destination ?? process.stderr;
  const isTty = (dest as { isTTY?: boolean }).isTTY === true;
  const usePretty = format === 'pretty' || (format === 'auto' && isTty);
  const stream = usePretty
    ? (require('pino-pretty') as typeof import('pino-pretty'))({ destination: dest as NodeJS.WritableStream & { fd?: number }, colorize: isTty, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', sync: true })
    : dest;
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, stream as pino.DestinationStream);
}

/** A logger that writes nothing: for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
