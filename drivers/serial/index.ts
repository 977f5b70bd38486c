import type { SerialPort } from 'serialport';

// serialport (a native addon, ~10 MB resident) is loaded only when a serial input starts.
let SerialPortClass: typeof SerialPort | undefined;
import { DriverHealthState, type Driver, type DriverContext, type DriverDeps, type DriverHealth } from '../../src/core/driver.js';
import type { Logger } from '../../src/core/log.js';
import type { SerialConfig } from './config.js';
import { lineDecoder, type LineDecoder } from './formats.js';
import { LineSplitter, isGarbled } from './lines.js';

export type { SerialConfig } from './config.js';
export { NmeaDecoder } from './nmea.js';
export { CsvDecoder, JsonLineDecoder, KvDecoder } from './formats.js';
export { LineSplitter } from './lines.js';

/**
 * Serial input: opens the port, splits lines (bounded), decodes them by format. A port that
 * fails to open or vanishes (USB unplugged) is reopened with exponential backoff; a port that is
 * silent for `silence_timeout` is reported and reopened (watchdog).
 */
export class SerialDriver implements Driver {
  readonly kind = 'serial';
  private readonly status: DriverHealthState;
  private port: SerialPort | undefined;
  private ctx: DriverContext | undefined;
  private decoder: LineDecoder;
  private splitter: LineSplitter;
  private retryTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private failures = 0;
  private lastByteAt = 0;
  private readonly log: Logger;
  private readonly device: string;
  private readonly where: string;
  private readonly c = { bytes: 0, lines: 0, readings: 0, opens: 0, open_failures: 0, disconnects: 0, silence_reopens: 0 };

  constructor(readonly name: string, private readonly cfg: SerialConfig, deps: DriverDeps) {
    this.log = deps.log.child({ input: name, driver: 'serial', path: cfg.path });
    this.status = new DriverHealthState(deps.now);
    this.device = cfg.device ?? name;
    this.where = `serial ${cfg.path}`;
    try {
      this.decoder = lineDecoder(cfg, this.device);
    } catch (e) {
      throw new Error(`serial input "${name}": ${(e as Error).message}`);
    }
    this.splitter = new LineSplitter(cfg.max_line_bytes, (line, raw) => this.onLine(line, raw), (head, n) =>
      this.ctx?.drops.drop('too_long', head, `${this.where}: line longer than max_line_bytes ${cfg.max_line_bytes} (${n}+ bytes without a newline); discarded up to the next newline`),
    );
  }

  private onLine(line: string, raw: Buffer): void {
    const ctx = this.ctx;
    if (!ctx) return;
    this.c.lines++;
    // NMEA: noise before the last `$` is skipped by the decoder (resync), so only the sentence must be clean
    const at = this.cfg.format === 'nmea' ? raw.lastIndexOf(36) : -1;
    if (at > 0 ? isGarbled(raw.subarray(at), raw.toString('utf8', at)) : isGarbled(raw, line)) {
      ctx.drops.drop('garbled', line, `${this.where}: control bytes or invalid UTF-8 in the line (wrong baud rate or framing?)`);
      return;
    }
    if (line.length === 0) return;
    try {
      this.c.readings += this.decoder.decode(line, ctx.now(), ctx.emit, ctx.drops, this.where);
    } catch (e) {
      ctx.drops.drop('garbled', line, `${this.where}: ${(e as Error).message}`);
    }
  }

  async start(ctx: DriverContext): Promise<void> {
    SerialPortClass ??= (await import('serialport')).SerialPort;
    if (this.status.current !== 'stopped') return;
    this.ctx = ctx;
    this.status.set('starting', `opening ${this.cfg.path}`);
    this.open();
    if (this.cfg.silence_timeout > 0) {
      const every = Math.max(50, Math.min(1000, Math.floor(this.cfg.silence_timeout / 4)));
      this.watchdog = setInterval(() => this.checkSilence(), every);
      this.watchdog.unref();
    }
  }

  private open(): void {
    if (this.status.current === 'stopped') return;
    this.retryTimer = undefined;
    const cfg = this.cfg;
    const port = new SerialPortClass!({
      path: cfg.path,
      baudRate: cfg.baud_rate,
      dataBits: cfg.data_bits,
      parity: cfg.parity,
      stopBits: cfg.stop_bits,
      rtscts: cfg.rtscts,
      autoOpen: false,
    });
    this.port = port;
    port.on('data', (chunk: Buffer) => {
      this.lastByteAt = performance.now();
      this.c.bytes += chunk.length;
      this.splitter.push(chunk);
    });
    port.on('error', (err) => this.log.debug({ err: err.message }, 'serial port error'));
    port.on('close', (err?: Error & { disconnected?: boolean }) => {
      if (this.port !== port) return;
      this.port = undefined;
      if (this.status.current === 'stopped') return;
      this.c.disconnects++;
      this.log.warn({ err: err?.message }, `serial input "${this.name}": port ${cfg.path} closed${err ? ` (${err.message})` : ''}; reopening`);
      this.scheduleReopen(`port ${cfg.path} went away${err ? ` (${err.message})` : ''}`);
    });
    port.open((err) => {
      if (this.port !== port) return;
      if (err) {
        this.port = undefined;
        this.c.open_failures++;
        this.scheduleReopen(`cannot open ${cfg.path}: ${err.message}`);
        return;
      }
      if (this.status.current === 'stopped') {
        port.close(() => {});
        return;
      }
      this.c.opens++;
      this.failures = 0;
      this.lastByteAt = performance.now();
      this.splitter.reset();
      this.log.info(`serial input "${this.name}": ${cfg.path} open at ${cfg.baud_rate} baud`);
      this.status.set('up', `${cfg.path} open at ${cfg.baud_rate} baud`);
    });
  }

  private scheduleReopen(why: string): void {
    if (this.status.current === 'stopped' || this.retryTimer) return;
    const base = Math.min(this.cfg.reconnect_max, this.cfg.reconnect_min * 2 ** Math.min(this.failures, 20));
    const delay = Math.round(base * (0.8 + Math.random() * 0.2));
    this.failures++;
    const detail = `${why}; retrying in ${(delay / 1000).toFixed(1)}s (attempt ${this.failures})`;
    if (this.failures === 1 || this.failures % 10 === 0) this.log.warn(`serial input "${this.name}": ${detail}`);
    this.status.set('down', detail);
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  private checkSilence(): void {
    const port = this.port;
    if (!port || !port.isOpen || this.status.current === 'stopped') return;
    const quiet = performance.now() - this.lastByteAt; // monotonic: a wall clock stepped by NTP neither fakes nor hides silence
    if (quiet < this.cfg.silence_timeout) return;
    this.c.silence_reopens++;
    const why = `no data from ${this.cfg.path} for ${Math.round(quiet / 1000)}s (silence_timeout)`;
    this.log.warn(`serial input "${this.name}": ${why}; reopening the port`);
    this.status.set('degraded', why);
    this.port = undefined;
    port.close(() => this.scheduleReopen(why));
  }

  async stop(): Promise<void> {
    if (this.status.current === 'stopped') return;
    this.status.set('stopped');
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    this.retryTimer = this.watchdog = undefined;
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((r) => port.close(() => r()));
  }

  health(): DriverHealth {
    return this.status.health();
  }

  counters(): Record<string, number> {
    return { ...this.c, ...this.decoder.counters() };
  }
}

