import mqttPacket from 'mqtt-packet';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { GatewayConfig } from '../config/gateway.js';
import type { PipelineSpec } from '../config/pipeline.js';
import type { Driver, DriverContext } from '../core/driver.js';
import type { PluginSet } from '../plugin-set.js';
import { builtinPlugins } from '../plugins.js';
import { DropCounter, type DropSample } from '../core/drops.js';
import type { Logger } from '../core/log.js';
import type { Reading } from '../core/reading.js';
import type { Emission } from '../core/records.js';
import { compilePipeline } from '../compile.js';
import type { DetectEvent, Pipeline, PipelineStats, StepStatus } from '../engine/pipeline.js';
import { deadLetterLimiter } from './dead-letter-limit.js';
import { DEFAULT_FUTURE_SKEW_MS, DeviceClocks, type ClockConsensus } from './device-clocks.js';
import { dropsByReason } from './stats-log.js';
import { Outbox, type OutboxStats } from '../outbox/index.js';
import { UpstreamForwarder, type UpstreamStats } from '../upstream/index.js';
import { DEFAULT_STATE_CONFIG, StateKeeper, type StateStats } from './state-keeper.js';
import { describeChanges, planReload, swapPipelines, type InputSettings, type ReloadChanges, type ReloadTarget } from './reload.js';

export interface GatewayOptions {
  config: GatewayConfig;
  pipelines: PipelineSpec[];
  /** Folder relative paths in the config are resolved against (the config file's folder). */
  baseDir: string;
  log: Logger;
  /** Wall clock (ms); injectable for tests. */
  now?: () => number;
  /** How often the wall clock is handed to the pipelines (closes windows of silent sources). */
  tickMs?: number;
  /** How often the state of every pipeline is checkpointed (default: state.checkpoint_interval). */
  checkpointMs?: number;
  /** Extra sink for every emission (the demo's live view, tests). */
  onEmission?: (e: Emission) => void;
  /** Every detector judgement, by pipeline (metrics' score histogram, the dashboard's charts). */
  onDetect?: (pipeline: string, e: DetectEvent) => void;
  /** Services drivers can look up (e.g. the simulated GPIO backend). */
  services?: Map<string, unknown>;
  /** Drivers, detectors and operators of this build (default: the built-in ones, src/plugins.ts). */
  plugins?: PluginSet;
}

export interface GatewayStats {
  gateway: string;
  readings: number;
  /** Readings no pipeline takes. */
  unrouted: number;
  inputs: Array<{ name: string; kind: string; state: string; detail?: string; listening?: { host: string; port: number }; counters: Record<string, number>; dropped: Record<string, number> }>;
  pipelines: PipelineStats[];
  outbox?: OutboxStats;
  upstream?: UpstreamStats & { state: string };
  /** Checkpoints and the ingest journal (absent without an outbox: no state is kept). */
  state?: StateStats;
  /** The gateway clock against its devices' (see device-clocks.ts). */
  clock: ClockConsensus;
  /** Reloads by result (applied, invalid, refused, failed); filled in by whoever reloads (src/cli/run.ts). */
  reloads?: Record<string, number>;
}

/** What `Gateway.reload` did: applied, or refused (settings that need a restart), or applied with inputs that failed to start. */
export type ReloadOutcome =
  | { result: 'applied'; changes: ReloadChanges; pauseMs: number }
  | { result: 'refused'; restartRequired: string[] }
  | { result: 'failed'; changes: ReloadChanges; pauseMs: number; errors: string[] };

/**
 * The runtime: drivers → pipelines → outbox → upstream, and alerts → local actions.
 * All I/O is here and in the drivers/outbox/upstream; the pipelines stay pure.
 */
export class Gateway {
  readonly id: string;
  readonly dataDir: string;
  private readonly log: Logger;
  private readonly now: () => number;
  /** The gateway time: its wall clock, corrected by its devices' consensus when that disagrees (see device-clocks.ts). */
  private readonly clocks: DeviceClocks;
  /** Shared with the state keeper: a reload swaps pipelines in place. */
  private readonly pipelines: Pipeline[] = [];
  private readonly drivers: Array<{ driver: Driver; drops: DropCounter }> = [];
  /** The config and pipelines running (a reload replaces them). */
  private current: ReloadTarget;
  private readonly services: Map<string, unknown>;
  private outbox: Outbox | undefined;
  private upstream: UpstreamForwarder | undefined;
  private keeper: StateKeeper | undefined;
  private timers: NodeJS.Timeout[] = [];
  private readings = 0;
  private unrouted = 0;
  private running = false;
  /** Dead-letter rows written per source and second (every drop is counted regardless). */
  private readonly deadLetterAllowed: (source: string) => boolean;

  constructor(private readonly opts: GatewayOptions) {
    this.id = opts.config.gateway.id;
    this.dataDir = resolve(opts.baseDir, opts.config.gateway.data_dir);
    this.log = opts.log.child({ gateway: this.id });
    this.now = opts.now ?? Date.now;
    this.clocks = new DeviceClocks({
      toleranceMs: Math.min(DEFAULT_FUTURE_SKEW_MS, ...opts.pipelines.map((p) => p.input.max_future_skew)),
      now: this.now,
      mono: () => performance.now(),
      enabled: opts.config.gateway.clock_from_devices,
      onChange: (c, was) => this.clockChanged(c, was),
    });
    this.deadLetterAllowed = deadLetterLimiter(10, this.now);
    this.current = { config: opts.config, pipelines: opts.pipelines };
    this.services = opts.services ?? new Map<string, unknown>();
    for (const spec of opts.pipelines) this.pipelines.push(this.compile(spec));
  }

  private compile(spec: PipelineSpec): Pipeline {
    const onDetect = this.opts.onDetect;
    return compilePipeline(spec, (e) => this.emit(e), onDetect ? { onDetect: (e) => onDetect(spec.name, e) } : undefined, this.opts.plugins);
  }

  /**
   * Open the outbox, restore the last checkpoint and replay the journal after it, then connect
   * upstream and start the inputs. A start that fails stops whatever it had started.
   */
  async start(): Promise<void> {
    try {
      await this.startParts();
    } catch (err) {
      await this.stopParts(false);
      throw err;
    }
  }

  private async startParts(): Promise<void> {
    const { config } = this.opts;
    // mqtt-packet (shared by aedes and mqtt.js) otherwise builds, on its first write, a cache of
    // 65,536 two-byte Buffers for packet ids and lengths: ~6 MB of heap, ~11 MB of RSS, for a
    // saving of one 2-byte allocation per packet written (bench/runtime.bench.ts, docs/drivers.md).
    mqttPacket.writeToStream.cacheNumbers = false;
    mkdirSync(this.dataDir, { recursive: true });
    if (config.outbox) {
      // Ages (max_age) and `emitted` by the gateway time: corrected by the devices, it does not jump when NTP sets the clock right.
      this.outbox = Outbox.open({ config: config.outbox, dataDir: this.dataDir, gatewayId: this.id, log: this.log.child({ part: 'outbox' }), now: () => this.clocks.time() });
      const state = config.state ?? DEFAULT_STATE_CONFIG;
      this.keeper = new StateKeeper({ outbox: this.outbox, pipelines: this.pipelines, config: state, log: this.log.child({ part: 'state' }), now: this.now, dataDir: this.dataDir });
      this.keeper.restoreAndReplay(
        (r, at) => {
          r.arrival = at; // as it arrived then
          this.route(r);
        },
        (at) => this.advance(at),
      );
      this.keeper.checkpoint();
    } else {
      this.log.info('no outbox configured: pipeline state is not saved across restarts (it lives in the outbox database)');
    }
    for (const p of this.pipelines) this.watchDrops(p);
    if (config.upstream && this.outbox) {
      this.upstream = new UpstreamForwarder({ config: config.upstream, outbox: this.outbox, gatewayId: this.id, log: this.log.child({ part: 'upstream' }) });
      await this.upstream.start();
    }
    for (const input of config.inputs as InputSettings[]) if (input.enabled !== false) await this.startInput(input);
    this.running = true;
    const tick = setInterval(() => this.tick(), this.opts.tickMs ?? 1000);
    tick.unref();
    this.timers.push(tick);
    if (this.keeper) {
      // Periodic checkpoints are written in slices (the event loop is never held for the whole state),
      // once enough was journaled since the last one (state.checkpoint_min_entries).
      const checkpoint = setInterval(() => this.keeper?.checkpointDue && this.checkpoint(true), this.opts.checkpointMs ?? (config.state ?? DEFAULT_STATE_CONFIG).checkpoint_interval);
      checkpoint.unref();
      this.timers.push(checkpoint);
    }
    this.log.info({ pipelines: this.pipelines.map((p) => p.name), inputs: this.drivers.length, upstream: config.upstream?.url ?? null }, 'gateway running');
  }

  private async startInput(input: InputSettings): Promise<void> {
    const factory = (this.opts.plugins ?? builtinPlugins).driver(input.type);
    if (!factory) throw new Error(`inputs: no driver of type "${input.type}" (input "${input.name}") in this build (src/plugins.ts lists them)`);
    const driver = factory.create(input.name, input, { log: this.log, dataDir: this.dataDir, services: this.services, now: this.now }); // drivers name themselves in their logs
    const drops = new DropCounter();
    drops.onDrop((d) => {
      this.log.debug({ input: input.name, reason: d.reason, detail: d.detail }, 'input dropped');
      this.deadLetter(`input:${input.name}`, d);
    });
    const ctx: DriverContext = { emit: (r) => this.push(r), drops, log: this.log.child({ input: input.name }), now: () => this.clocks.time() }; // readings without a time are stamped with the gateway time
    if (this.keeper) {
      ctx.whenDurable = this.keeper.whenDurable;
      ctx.delivery = this.keeper.delivery;
    }
    this.drivers.push({ driver, drops });
    await driver.start(ctx);
    this.log.info({ input: input.name, type: input.type }, 'input started');
  }

  private async stopInput(name: string): Promise<void> {
    const i = this.drivers.findIndex((d) => d.driver.name === name);
    if (i < 0) return;
    const [{ driver }] = this.drivers.splice(i, 1) as [(typeof this.drivers)[number]];
    try {
      await driver.stop();
    } catch (err) {
      this.log.warn({ input: name, err: (err as Error).message }, 'input did not stop cleanly');
    }
  }

  private watchDrops(p: Pipeline): void {
    p.drops.onDrop((d) => this.deadLetter(`pipeline:${p.name}`, d));
  }

  /**
   * Swap in a validated config and pipelines without a restart (src/runtime/reload.ts decides what
   * is kept, rebuilt, reopened). Settings that need a restart refuse the whole reload. The swap is
   * a checkpoint boundary: the state of the new set of pipelines is saved at once, so a crash
   * later replays only readings that came after it, through the pipelines that took them.
   */
  async reload(next: ReloadTarget): Promise<ReloadOutcome> {
    if (!this.running) throw new Error('the gateway is not running');
    const plan = planReload(this.current, next);
    if (plan.restartRequired.length) return { result: 'refused', restartRequired: plan.restartRequired };
    const changes = describeChanges(plan);
    // No reading is taken from here to the checkpoint: the pause a reload costs. Unchanged
    // pipelines need no checkpoint: a replay after a crash goes through the same ones.
    const t0 = performance.now();
    const pp = plan.pipelines;
    if (pp.rebuild.length || pp.remove.length || pp.add.length) {
      const failed = swapPipelines(this.pipelines, pp, (spec) => this.compile(spec));
      for (const f of failed) this.log.warn({ pipeline: f.pipeline, part: f.part, err: f.error }, `reload: could not keep ${f.pipeline} ${f.part} (${f.error}); that part starts fresh`);
      const built = new Set([...changes.pipelines.rebuilt.map((r) => r.name), ...changes.pipelines.added]);
      for (const p of this.pipelines) if (built.has(p.name)) this.watchDrops(p);
      this.checkpoint();
    }
    const pauseMs = performance.now() - t0;
    for (const name of [...plan.inputs.stop, ...plan.inputs.restart.map((i) => i.name)]) await this.stopInput(name);
    const errors: string[] = [];
    const down = new Set<string>();
    for (const input of [...plan.inputs.restart, ...plan.inputs.start]) {
      try {
        await this.startInput(input);
      } catch (err) {
        await this.stopInput(input.name);
        down.add(input.name);
        errors.push(`input ${input.name}: ${(err as Error).message}`);
      }
    }
    // An input that failed to start counts as not running: the next reload tries it again.
    this.current = down.size ? { ...next, config: { ...next.config, inputs: next.config.inputs.filter((i) => !down.has(i.name)) } } : next;
    return errors.length ? { result: 'failed', changes, pauseMs, errors } : { result: 'applied', changes, pauseMs };
  }

  /** Keep a sample of a drop in the outbox's dead-letter table, stamped with when it was refused (drivers' samples carry no time). */
  private deadLetter(source: string, d: DropSample): void {
    if (this.outbox && this.deadLetterAllowed(source)) this.outbox.recordDeadLetter(source, { ...d, at: this.now() });
  }

  /** Hand one reading to every pipeline that takes its stream. */
  push(r: Reading): void {
    r.arrival ??= this.clocks.arrival(r.stream, r.ts); // the gateway time: idleness and the far-future check are judged by it
    this.keeper?.append(r, r.arrival);
    this.route(r);
  }

  private route(r: Reading): void {
    this.readings++;
    let taken = false;
    for (const p of this.pipelines) if (p.push(r)) taken = true;
    if (!taken) this.unrouted++;
  }

  /** Stop cleanly: inputs first, then close the last windows (partial), save state, flush the outbox. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.stopParts(true);
    this.log.info(this.summary(), 'gateway stopped');
  }

  /** Stop whatever is started; `clean`: a stop after a complete start (not a failed start). */
  private async stopParts(clean: boolean): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const { driver } of this.drivers) {
      try {
        await driver.stop();
      } catch (err) {
        this.log.warn({ input: driver.name, err: (err as Error).message }, 'input did not stop cleanly');
      }
    }
    if (clean) {
      // The last windows go out as partial, and the state after them is saved with them.
      for (const p of this.pipelines) p.flush(true);
      this.checkpoint();
      this.outbox?.flush();
      await this.drainBeforeStop();
    }
    try {
      await this.upstream?.stop();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'upstream did not stop cleanly');
    }
    this.keeper?.close();
    this.outbox?.close();
  }

  /**
   * On a clean stop with the uplink up, give the last windows (just flushed) a moment to go out,
   * bounded by `upstream.stop_timeout`. Whatever is left stays in the outbox for the next start.
   */
  private async drainBeforeStop(): Promise<void> {
    const up = this.upstream;
    const outbox = this.outbox;
    if (!up || !outbox || up.state() !== 'online') return;
    const until = performance.now() + (this.opts.config.upstream?.stop_timeout ?? 2000);
    while (outbox.stats().depth.messages > 0 && up.state() === 'online' && performance.now() < until) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The upstream forwarder, when configured (operations publish the retained stats message through it). */
  get uplink(): UpstreamForwarder | undefined {
    return this.upstream;
  }

  stats(): GatewayStats {
    return {
      gateway: this.id,
      readings: this.readings,
      unrouted: this.unrouted,
      inputs: this.drivers.map(({ driver, drops }) => {
        const h = driver.health();
        return { name: driver.name, kind: driver.kind, state: h.state, detail: h.detail, listening: h.listening, counters: driver.counters(), dropped: drops.counters() };
      }),
      pipelines: this.pipelines.map((p) => p.stats()),
      outbox: this.outbox?.stats(),
      upstream: this.upstream ? { ...this.upstream.stats(), state: this.upstream.state() } : undefined,
      state: this.keeper?.stats(),
      clock: this.clocks.state,
    };
  }

  /** Each pipeline's operator steps' status rows (a vehicle's forward, a patient's band): GET /api/status. */
  stepStatus(): StepStatus[] {
    return this.pipelines.flatMap((p) => p.stepStatus());
  }

  private summary() {
    const s = this.stats();
    const o = s.outbox;
    const u = s.upstream;
    return {
      readings: s.readings,
      unrouted: s.unrouted,
      dropped: dropsByReason(s),
      pipelines: s.pipelines.map((p) => ({ name: p.pipeline, accepted: p.accepted, late: p.late, dropped: p.dropped, emitted: p.emitted })),
      ...(o ? { outbox: { buffered: o.depth.messages, committed: o.committed, acked: o.acked, dropped: o.dropped, droppedTotal: o.droppedTotal } } : {}),
      ...(u ? { upstream: { sent: u.sent, acked: u.acked, connects: u.connects, disconnects: u.disconnects } } : {}),
      ...(s.state
        ? {
            state: {
              checkpoints: s.state.checkpoints,
              maxCheckpointMs: Math.round(s.state.maxCheckpointMs),
              maxCaptureMs: Math.round(s.state.maxCaptureMs),
              checkpointBytes: s.state.lastCheckpoint?.bytes ?? 0,
              journalCommits: s.state.journal?.commits ?? 0,
              redelivered: s.state.redelivered,
            },
          }
        : {}),
    };
  }

  private clockChanged(c: ClockConsensus, was: number): void {
    const by = (ms: number) => `${(Math.abs(ms) / 1000).toFixed(1)} s ${ms > 0 ? 'behind' : 'ahead of'}`;
    if (c.correctionMs === 0) this.log.info({ clock: c, wasMs: was }, 'clock: the gateway clock agrees with its devices again; readings are judged by it');
    else
      this.log.warn(
        { clock: c },
        `clock: the gateway clock is ${by(c.correctionMs)} ${c.agreeing} of ${c.devices} devices' clocks, which agree with each other: readings are judged by their time (the gateway clock ${c.correctionMs > 0 ? '+' : '−'} ${(Math.abs(c.correctionMs) / 1000).toFixed(1)} s) instead of being refused as too far in the future. Set the gateway clock right (NTP or chrony; a Raspberry Pi has no real-time clock and starts with the time saved at its last shutdown), or turn this off with gateway.clock_from_devices: false.`,
      );
  }

  private tick(): void {
    this.clocks.check();
    const now = this.clocks.time();
    this.keeper?.tick(now);
    this.advance(now);
  }

  private advance(now: number): void {
    for (const p of this.pipelines) p.advanceTo(now);
  }

  /** `sliced`: written over several turns of the event loop (periodic ones); else at once. */
  private checkpoint(sliced = false): void {
    if (!this.keeper || !this.outbox || this.outbox.isClosed) return;
    try {
      if (sliced) this.keeper.checkpointInSlices();
      else this.keeper.checkpoint();
    } catch (err) {
      this.log.error({ err, file: this.outbox.file }, `state: checkpoint failed (${(err as Error).message}); the journal is kept, the next checkpoint retries`);
    }
  }

  private emit(e: Emission): void {
    this.opts.onEmission?.(e);
    if (e.kind === 'late') {
      this.log.debug({ pipeline: e.pipeline, stream: e.reading.stream, ts: e.reading.ts, watermark: e.watermark }, 'late reading');
      return;
    }
    if (e.kind === 'alert') {
      const a = e.alert;
      this.log[a.state === 'cleared' ? 'info' : 'warn']({ pipeline: e.pipeline, stream: a.stream, detector: a.detector, severity: a.severity, score: a.score, value: a.value, id: a.id }, `alert ${a.state}`);
      for (const { driver } of this.drivers) {
        try {
          driver.onAlert?.(a);
        } catch (err) {
          this.log.error({ input: driver.name, err: (err as Error).message }, 'local action failed');
        }
      }
    }
    this.outbox?.put(e);
  }
}
