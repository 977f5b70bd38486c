import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MqttTransport, runLive, Simulation, type Domain, type Duty, type FaultEvent, type LiveSummary, type SampleWriter } from '../../firmware-sim/index.js';
import { checkPipelineText, parseGatewayText } from '../config/load.js';
import { silentLogger, type Logger } from '../core/log.js';
import type { AlertRecord, Emission } from '../core/records.js';
import { Gateway, type GatewayStats } from '../runtime/gateway.js';
import { UplinkBroker, UpstreamConsumer } from './uplink.js';

const DEMO_DOMAINS: readonly Domain[] = ['maintenance', 'vitals', 'telematics'];

/** The domain pipelines the demo prefers, when they exist (pipelines/<file>). */
const DOMAIN_PIPELINES: Record<Domain, string> = {
  maintenance: 'predictive-maintenance.yaml',
  vitals: 'vitals.yaml',
  telematics: 'telematics.yaml',
};

export interface DomainPipelines {
  domain: Domain;
  /** Paths relative to the repository root. */
  files: string[];
  /** `domain`: pipelines/<domain file>; `demo`: pipelines/examples/demo-<domain>*.yaml. */
  source: 'domain' | 'demo';
  /** Why a domain file present was not used. */
  note?: string;
}

/** The repository folder holding `pipelines/` (from src/demo, or dist/src/demo once built). */
function repoRoot(): string {
  for (const up of ['../../', '../../../']) {
    const dir = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(join(dir, 'pipelines', 'examples'))) return resolve(dir);
  }
  return process.cwd();
}

/**
 * Per domain: its own pipeline file when it exists and validates, else the demo pipelines
 * (pipelines/examples/demo-<domain>.yaml and demo-<domain>-*.yaml).
 */
function choosePipelines(root = repoRoot(), prefer: 'auto' | 'demo' = 'auto'): DomainPipelines[] {
  const examples = readdirSync(join(root, 'pipelines', 'examples'));
  return DEMO_DOMAINS.map((domain) => {
    const demoFiles = examples
      .filter((f) => f === `demo-${domain}.yaml` || (f.startsWith(`demo-${domain}-`) && f.endsWith('.yaml')))
      .sort()
      .map((f) => `pipelines/examples/${f}`);
    const own = `pipelines/${DOMAIN_PIPELINES[domain]}`;
    if (prefer === 'auto' && existsSync(join(root, own))) {
      const check = checkPipelineText(readFileSync(join(root, own), 'utf8'), own);
      if (check.spec && check.issues.length === 0) return { domain, files: [own], source: 'domain' as const };
      return { domain, files: demoFiles, source: 'demo' as const, note: `${own} does not validate (${check.issues[0]?.message ?? 'invalid'}); using the demo pipeline` };
    }
    return { domain, files: demoFiles, source: 'demo' as const };
  });
}

export interface DemoOptions {
  /** Devices per domain (default 3). */
  devices?: number;
  seed?: number;
  /** Samples per second per device (default 10). */
  rateHz?: number;
  /** Pumps stop and vans park on this schedule (`edgewise sim --duty`). Default: they never stop. */
  duty?: Duty;
  /** Simulated span of one simulator run (faults are planned inside it); the demo loops it while running. Default 10 min. */
  spanMs?: number;
  /** Stop the simulator after this many runs of `spanMs` (default: until stopped). */
  cycles?: number;
  /** Real-time pacing (default true). false: the simulator runs as fast as it can in simulated time, and the gateway takes time only from the readings. */
  realTime?: boolean;
  /** Start of simulated time (default: now). */
  start?: number;
  /** Data folder for the outbox; default a new temp folder, removed at stop unless `keep`. */
  dataDir?: string;
  keep?: boolean;
  log?: Logger;
  gatewayId?: string;
  /** Keep every consumed message (tests). */
  keepMessages?: boolean;
  root?: string;
  /** `auto` (default): a domain's own pipeline file when present, else the demo one; `demo`: always the demo ones. */
  pipelines?: 'auto' | 'demo';
  /** Also called with every emission (tests). */
  onEmission?: (e: Emission) => void;
}

export interface ActiveAlert {
  stream: string;
  detector: string;
  severity: string;
  since: number;
  pipeline: string;
}

/** What the gateway produced for upstream (what entered the outbox), by kind. */
export type Produced = Record<'aggregate' | 'alert' | 'reading', number>;

/**
 * The whole gateway on a laptop, in one process: an upstream broker with a consumer, the runtime
 * (embedded MQTT input broker, the three domains' pipelines, outbox, forwarder), and the
 * simulator publishing to the input broker.
 */
export class Demo {
  readonly uplink = new UplinkBroker();
  consumer!: UpstreamConsumer;
  gateway!: Gateway;
  readonly choice: DomainPipelines[];
  readonly dataDir: string;
  readonly opts: Required<Pick<DemoOptions, 'devices' | 'seed' | 'rateHz' | 'spanMs' | 'realTime'>> & DemoOptions;
  /** Domain of each pipeline name. */
  readonly domainOf = new Map<string, Domain>();
  readonly produced: Produced = { aggregate: 0, alert: 0, reading: 0 };
  /** Every alert record the gateway emitted (raised, active, cleared). */
  readonly alerts: AlertRecord[] = [];
  readonly active = new Map<string, ActiveAlert>();
  /** Every simulator run so far (one per cycle). */
  readonly sims: Simulation[] = [];
  inputUrl = '';
  published = 0;
  notConnected = 0;
  /** Readings sent by the simulator, per domain. */
  readonly sent: Record<Domain, number> = { maintenance: 0, vitals: 0, telematics: 0 };
  private transport: MqttTransport | undefined;
  private readonly abort = new AbortController();
  private simDone: Promise<LiveSummary[]> | undefined;
  private outageTimer: NodeJS.Timeout | undefined;
  private outageUntil = 0;
  private stopped = false;

  constructor(o: DemoOptions = {}) {
    this.opts = { devices: 3, seed: 7, rateHz: 10, spanMs: 600_000, realTime: true, ...o };
    this.choice = choosePipelines(o.root, o.pipelines);
    this.dataDir = o.dataDir ?? mkdtempSync(join(os.tmpdir(), 'edgewise-demo-'));
  }

  /** Start the uplink, the consumer and the gateway (not the simulator: see `runSimulator`). */
  async start(): Promise<void> {
    const root = this.opts.root ?? repoRoot();
    await this.uplink.start();
    this.consumer = await UpstreamConsumer.connect(this.uplink.backendUrl, { keepMessages: this.opts.keepMessages });
    const files = this.choice.flatMap((c) => c.files);
    const yaml = [
      `gateway: { id: ${JSON.stringify(this.opts.gatewayId ?? 'demo-gateway')}, data_dir: ${JSON.stringify(join(this.dataDir, 'data'))} }`,
      'inputs:',
      '  - { name: sim, type: mqtt, broker: { host: 127.0.0.1, port: 0 } }',
      `pipelines: ${JSON.stringify(files)}`,
      'outbox: { commit_interval: 20ms }',
      `upstream: { url: "${this.uplink.url}", reconnect_min: 200ms, reconnect_max: 1s, drain_rate: 2000, stop_timeout: 3s }`,
    ].join('\n');
    const loaded = parseGatewayText(yaml, join(root, 'edgewise-demo.yaml'), {}, root);
    for (const lp of loaded.pipelines) {
      const c = this.choice.find((x) => x.files.some((f) => resolve(root, f) === resolve(root, lp.file) || lp.file.endsWith(f)));
      if (c) this.domainOf.set(lp.spec.name, c.domain);
    }
    this.gateway = new Gateway({
      config: loaded.config,
      pipelines: loaded.pipelines.map((p) => p.spec),
      baseDir: root,
      log: this.opts.log ?? silentLogger(),
      onEmission: (e) => this.onEmission(e),
      // In simulated time the wall clock means nothing to the pipelines: time comes from the readings.
      tickMs: this.opts.realTime ? 1000 : 2 ** 30,
    });
    await this.gateway.start();
    const port = this.gateway.stats().inputs.find((i) => i.name === 'sim')?.listening?.port;
    if (port === undefined) throw new Error('demo: the input broker is not listening');
    this.inputUrl = `mqtt://127.0.0.1:${port}`;
    this.transport = await MqttTransport.connect({ url: this.inputUrl, clientId: `edgewise-demo-sim-${process.pid}` });
  }

  /** Run the simulator (all cycles); resolves when it is done or stopped. */
  runSimulator(onBatch?: (ticks: number, sim: Simulation) => void): Promise<LiveSummary[]> {
    if (this.simDone) return this.simDone;
    this.simDone = (async () => {
      const out: LiveSummary[] = [];
      const t = this.transport!;
      const counting: SampleWriter = {
        write: (s) => {
          let n = 0;
          for (const v of s.values) if (!Number.isNaN(v)) n++;
          this.sent[s.device.domain] += n;
          t.write(s);
        },
        ready: () => t.ready(),
      };
      let start = this.opts.start ?? Date.now();
      for (let cycle = 0; this.opts.cycles === undefined || cycle < this.opts.cycles; cycle++) {
        if (this.abort.signal.aborted) break;
        // The same seed each cycle: the same patients, pumps and vans, with their faults again.
        const sim = new Simulation({ domains: DEMO_DOMAINS, devices: this.opts.devices, rateHz: this.opts.rateHz, seed: this.opts.seed, start, durationMs: this.opts.spanMs, duty: this.opts.duty });
        this.sims.push(sim);
        const r = await runLive(sim, [counting], { realTime: this.opts.realTime, epoch: this.opts.realTime ? start : undefined, signal: this.abort.signal, maxBatch: this.opts.realTime ? 1000 : 50, onBatch: onBatch && ((k) => onBatch(k, sim)) });
        out.push(r);
        start += this.opts.spanMs;
      }
      this.published = t.published;
      this.notConnected = t.notConnected;
      return out;
    })();
    return this.simDone;
  }

  /** Injected faults so far (ground truth), over every cycle, up to `until` (default: all planned). */
  faults(until = Infinity): FaultEvent[] {
    return this.sims.flatMap((s) => s.faults()).filter((f) => f.start <= until);
  }

  /** Cut the uplink for `ms`, then restore it. */
  async outage(ms: number): Promise<void> {
    if (this.stopped || !this.uplink.up) return;
    await this.uplink.cut();
    this.outageUntil = Date.now() + ms;
    this.outageTimer = setTimeout(() => void this.endOutage(), ms);
  }

  /** ms left of a running outage (0 when the link is up). */
  outageLeft(): number {
    return this.uplink.up ? 0 : Math.max(0, this.outageUntil - Date.now());
  }

  async endOutage(): Promise<void> {
    if (this.outageTimer) clearTimeout(this.outageTimer);
    this.outageTimer = undefined;
    if (!this.stopped) await this.uplink.restore();
  }

  /** Stop the simulator and wait for it to finish its batch. */
  async stopSimulator(): Promise<void> {
    this.abort.abort();
    await this.simDone;
  }

  /** Total produced for upstream. */
  get producedTotal(): number {
    return this.produced.aggregate + this.produced.alert + this.produced.reading;
  }

  /**
   * Wait until the input has gone quiet, the outbox is empty and the consumer holds as many
   * unique messages as the gateway produced. Returns whether that happened within `timeoutMs`.
   */
  async drain(timeoutMs = 30_000): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    let last = -1;
    let quietSince = Date.now();
    while (Date.now() < until) {
      const s = this.gateway.stats();
      if (s.readings !== last) {
        last = s.readings;
        quietSince = Date.now();
      }
      const quiet = Date.now() - quietSince >= 300;
      if (quiet && (s.outbox?.depth.messages ?? 0) === 0 && (s.outbox?.pending ?? 0) === 0 && this.consumer.unique >= this.producedTotal) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  }

  stats(): GatewayStats {
    return this.gateway.stats();
  }

  /** Stop everything: simulator → gateway → brokers; the temp data folder goes unless `keep`. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.outageTimer) clearTimeout(this.outageTimer);
    this.abort.abort();
    await this.simDone?.catch(() => {});
    await this.transport?.close().catch(() => {});
    await this.gateway?.stop();
    await this.consumer?.close().catch(() => {});
    await this.uplink.close();
    if (!this.opts.keep && !this.opts.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  private onEmission(e: Emission): void {
    this.opts.onEmission?.(e);
    if (e.kind === 'late') return;
    this.produced[e.kind]++;
    if (e.kind !== 'alert') return;
    const a = e.alert;
    this.alerts.push(a);
    const key = `${e.pipeline}\u0000${a.id}`;
    if (a.state === 'cleared') this.active.delete(key);
    else if (!this.active.has(key)) this.active.set(key, { stream: a.stream, detector: a.detector, severity: a.severity, since: a.start, pipeline: e.pipeline });
  }
}
