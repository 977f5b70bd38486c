import { Option, type Command } from 'commander';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../core/log.js';
import { parseDuration } from '../core/duration.js';
import { Demo } from '../demo/demo.js';
import { RateMeter, dropsOf, renderLine, renderView } from '../demo/view.js';
import { parseDuty, Simulation, type Duty, type FaultEvent } from '../../firmware-sim/index.js';
import { pipelineSchema } from '../config/pipeline.js';
import type { AlertRecord } from '../core/records.js';
import { compilePipeline } from '../compile.js';
import { formatTimestamp } from '../core/time.js';

const CSI = '\x1b[';

/**
 * `edgewise demo` (`npm start`): the whole gateway on a laptop, live. See docs/demo.md.
 */
export function register(program: Command): void {
  program
    .command('demo')
    .description('Run a whole gateway on this machine: simulated pumps, patients and vans → embedded broker → pipelines → outbox → an upstream broker, with a live view. No hardware, no broker to install.')
    .option('--devices <n>', 'simulated devices per domain', '3')
    .option('--seed <n>', 'simulator seed (same seed, same signals and faults)', '7')
    .option('--rate <hz>', 'samples per second per device', '10')
    .option('--duration <d>', 'stop by itself after this long, e.g. 2m (default: run until Ctrl-C)')
    .option('--duty <shift|RUN/PERIOD>', 'pumps stop and vans park, engine off: e.g. 3m/5m (each runs 3 minutes of every 5, at its own phase); see edgewise sim --help')
    .option('--outage <d>', 'cut the uplink for this long (e.g. 20s), once, after --outage-at; on a terminal the o key does it too')
    .option('--outage-at <d>', 'when the --outage starts (default: 15s, or a quarter of --duration if shorter)')
    .addOption(new Option('--pipelines <which>', 'auto: a domain\'s pipelines/<domain>.yaml when present, else the demo ones; demo: always pipelines/examples/demo-*.yaml').choices(['auto', 'demo']).default('auto'))
    .option('--keep', 'keep the temp data folder (outbox, detector state, demo.log) at exit')
    .option('--offline', 'instead: replay simulated pumps through a pipeline as fast as possible and compare alerts with the injected faults (no broker)')
    .option('--hours <h>', 'with --offline: hours of simulated time', '6')
    .addHelpText('after', '\nKeys on a terminal: o = cut the uplink, q or Ctrl-C = stop. Details: docs/demo.md.')
    .action(async (o: DemoCliOptions) => {
      if (o.offline) return offlineDemo(o);
      process.exitCode = await liveDemo(o);
    });
}

interface DemoCliOptions {
  devices: string;
  seed: string;
  rate: string;
  hours: string;
  duty?: string;
  duration?: string;
  outage?: string;
  outageAt?: string;
  pipelines: 'auto' | 'demo';
  keep?: boolean;
  offline?: boolean;
}

function durationOpt(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    const ms = parseDuration(text);
    if (!(ms > 0)) throw new Error('must be more than 0');
    return ms;
  } catch (err) {
    throw new Error(`--${name} ${text}: ${(err as Error).message} (expected e.g. 20s, 2m)`);
  }
}

function intOpt(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} ${text}: expected a number from ${min} to ${max}`);
  return n;
}

async function liveDemo(o: DemoCliOptions): Promise<number> {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  let durationMs: number | undefined;
  let outageMs: number | undefined;
  let outageAt: number | undefined;
  let devices: number;
  let seed: number;
  let rateHz: number;
  let duty: Duty | undefined;
  try {
    durationMs = durationOpt('duration', o.duration);
    outageMs = durationOpt('outage', o.outage);
    outageAt = durationOpt('outage-at', o.outageAt);
    devices = Math.round(intOpt('devices', o.devices, 1, 1000));
    seed = intOpt('seed', o.seed, 0, 2 ** 32);
    rateHz = intOpt('rate', o.rate, 0.001, 1000);
    duty = o.duty === undefined ? undefined : parseDuty(o.duty, parseDuration);
  } catch (err) {
    process.stderr.write(`edgewise demo: ${(err as Error).message}\n`);
    return 2;
  }
  const tty = process.stdout.isTTY === true && process.stdin.isTTY === true;
  const demo = new Demo({ devices, seed, rateHz, spanMs: durationMs ?? 600_000, cycles: durationMs ? 1 : undefined, keep: o.keep, pipelines: o.pipelines, duty });
  const logFile = join(demo.dataDir, 'demo.log');
  demo.opts.log = createLogger({ level: 'info', format: 'json', destination: createWriteStream(logFile) });
  out('Edgewise demo: a whole gateway on this machine (no hardware, no broker to install)');
  for (const c of demo.choice) out(`  ${c.domain.padEnd(12)} ${c.files.join(', ')}${c.note ? `  (${c.note})` : ''}`);
  try {
    await demo.start();
  } catch (err) {
    process.stderr.write(`edgewise demo: could not start: ${(err as Error).message}\n`);
    await demo.stop().catch(() => {});
    return 1;
  }
  out(`  input broker ${demo.inputUrl} · upstream broker ${demo.uplink.url} · data ${demo.dataDir}${o.keep ? '' : ' (removed at exit; --keep keeps it)'}`);
  out(`  gateway log: ${logFile}`);
  const startedAt = Date.now();
  const meter = new RateMeter();
  let maxDepth = 0;
  let stopping: Promise<number> | undefined;
  const timers: NodeJS.Timeout[] = [];
  let ttyRestored = false;
  // Once only: leaving the alternate screen a second time (at exit, after the summary) restores the
  // cursor saved on entering it, and the shell prompt would then overwrite the summary.
  const restoreTty = () => {
    if (!tty || ttyRestored) return;
    ttyRestored = true;
    process.stdout.write(`${CSI}?25h${CSI}?1049l`);
    try {
      process.stdin.setRawMode(false);
    } catch {
      /* stdin already closed */
    }
    process.stdin.pause();
  };
  process.once('exit', restoreTty);
  const simDone = demo.runSimulator();
  timers.push(setInterval(() => (maxDepth = Math.max(maxDepth, demo.stats().outbox?.depth.messages ?? 0)), 200));
  const keyOutage = outageMs ?? 20_000;
  if (tty) {
    process.stdout.write(`${CSI}?1049h${CSI}?25l`);
    const draw = () => process.stdout.write(`${CSI}H${renderView(demo, meter, startedAt, true, keyOutage).map((l) => `${l}${CSI}K`).join('\n')}\n${CSI}J`);
    draw();
    timers.push(setInterval(draw, 1000));
    process.stdin.setRawMode(true);
    process.stdin.resume();
    process.stdin.on('data', (b: Buffer) => {
      const k = b.toString('utf8');
      if (k === 'o' || k === 'O') void demo.outage(keyOutage);
      else if (k === 'q' || k === 'Q' || k === '\x03') void stop('key');
    });
  } else {
    renderLine(demo, meter, startedAt); // prime the rates
    timers.push(setInterval(() => out(renderLine(demo, meter, startedAt)), 5000));
  }
  if (outageMs) {
    const at = outageAt ?? Math.min(15_000, durationMs ? durationMs / 4 : 15_000);
    timers.push(setTimeout(() => {
      if (!tty) out(`[uplink] cut for ${Math.round(outageMs! / 1000)} s`);
      void demo.outage(outageMs!);
    }, at));
  }
  if (durationMs) timers.push(setTimeout(() => void stop('duration'), durationMs));
  void simDone.then(() => {
    if (durationMs) void stop('duration');
  });
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  function stop(why: string): Promise<number> {
    stopping ??= (async () => {
      for (const t of timers) clearInterval(t);
      await demo.stopSimulator();
      if (!demo.uplink.up) await demo.endOutage();
      const delivered = await demo.drain(20_000);
      const s = demo.stats();
      const produced = { ...demo.produced };
      const total = demo.producedTotal;
      const received = demo.consumer.unique;
      const byKind = { ...demo.consumer.byKind };
      const gaps = demo.consumer.gaps().length;
      const drops = dropsOf(demo);
      const now = Date.now();
      const faults = demo.faults(now).filter((f) => f.end <= now);
      const raised = demo.alerts.filter((a) => a.state === 'raised');
      const tail = (f: { start: number; end: number }) => f.end + Math.max(2000, 0.1 * (f.end - f.start));
      const real = faults.filter((f) => f.kind === 'fault');
      const found = real.filter((f) => raised.some((a) => a.stream.startsWith(`${f.device}/`) && a.start >= f.start && a.start <= tail(f)));
      const probes = faults.filter((f) => f.kind === 'artefact');
      const probeAlerts = raised.filter((a) => probes.some((f) => a.stream === f.streams[0] && a.start >= f.start && a.start <= f.end));
      await demo.stop();
      restoreTty();
      out();
      out(`Edgewise demo stopped (${why}) after ${Math.round((now - startedAt) / 1000)} s`);
      out(`  readings taken      ${s.readings.toLocaleString('en')} (simulator sent ${Object.values(demo.sent).reduce((a, b) => a + b, 0).toLocaleString('en')})`);
      out(`  produced upstream   ${total} (${produced.aggregate} aggregates, ${produced.alert} alert events)`);
      out(`  received upstream   ${received} unique (${byKind.aggregate ?? 0} aggregates, ${byKind.alert ?? 0} alert events), ${demo.consumer.duplicates} duplicates dropped, ${gaps} topics with seq gaps`);
      out(`  uplink outages      ${demo.uplink.outages}; outbox peak ${maxDepth} messages buffered`);
      const reasons = Object.entries(drops.reasons).map(([k, v]) => `${k} ${v}`).join(', ');
      out(`  drops               input ${drops.input}, pipelines ${drops.pipelines}, outbox ${drops.outbox}${reasons ? ` (${reasons}: counted, by reason)` : ''}`);
      out(`  injected faults     ${found.length} of ${real.length} finished ones had an alert on that device; probe-off artefacts ${probes.length}, alerts on SpO2 during them ${probeAlerts.length}`);
      const ok = delivered && received === total && gaps === 0;
      out(ok ? `  ✔ everything produced arrived upstream: ${received} of ${total}` : `  ✘ NOT everything arrived upstream: ${received} of ${total} (outbox ${s.outbox?.depth.messages ?? '?'} left)`);
      out('  (windows still open at shutdown were closed as partial and sent; --keep keeps the data folder)');
      return ok || !durationMs ? 0 : 1;
    })();
    void stopping.then((code) => process.exit(code));
    return stopping;
  }
  return await new Promise<number>(() => {}); // exits from stop()
}

/**
 * `edgewise demo --offline`: simulated pumps with injected faults, replayed through a pipeline
 * (1-minute summaries and the default detector on every stream) as fast as the CPU allows, and
 * what it found printed next to the simulator's ground truth. No broker, no network.
 */
function offlineDemo(o: { devices: string; hours: string; seed: string }): void {
      const start = Date.UTC(2026, 0, 5, 6);
      const sim = new Simulation({ domains: ['maintenance'], devices: Number(o.devices), rateHz: 1, seed: Number(o.seed), start, durationMs: Number(o.hours) * 3_600_000 });
      const spec = pipelineSchema().parse({
        name: 'pump-demo',
        input: { streams: ['pump-*/**'] },
        steps: [{ detect: { detector: 'default' } }, { window: { type: 'tumbling', size: '1m', aggregates: ['mean', 'max', 'p95'] } }, { output: 'minutes' }],
      });
      const alerts: AlertRecord[] = [];
      let windows = 0;
      const p = compilePipeline(spec, (e) => {
        if (e.kind === 'alert' && e.alert.state === 'raised') alerts.push(e.alert);
        else if (e.kind === 'aggregate') windows++;
      });
      const t0 = process.hrtime.bigint();
      let readings = 0;
      sim.run(0, sim.ticks, (s) => {
        const metrics = s.device.metrics;
        for (let i = 0; i < metrics.length; i++) {
          const v = s.values[i] ?? NaN;
          if (Number.isNaN(v)) continue; // the device sent nothing (a dropout)
          readings++;
          p.push({ stream: `${s.device.id}/${metrics[i]}`, ts: s.t, value: v });
        }
      });
      p.flush();
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      const out = (line = '') => process.stdout.write(`${line}\n`);
      out(`Edgewise demo (offline): simulated pumps replayed through a pipeline`);
      out(`${sim.devices.length} simulated pumps, ${o.hours} h at 1 Hz: ${readings.toLocaleString('en')} readings through pipeline "${spec.name}" in ${secs.toFixed(2)} s`);
      out(`${windows.toLocaleString('en')} one-minute windows, ${alerts.length} alerts raised by the default detector`);
      out();
      out('Injected faults (ground truth) and the first alert on that pump inside each:');
      const faults = sim.faults().filter((f) => f.kind === 'fault');
      let found = 0;
      for (const f of faults) {
        const hit = alerts.find((a) => a.stream.startsWith(`${f.device}/`) && a.start >= f.start && a.start <= f.end);
        if (hit) found++;
        out(`  ${f.device.padEnd(7)} ${f.fault.padEnd(16)} ${formatTimestamp(f.start).slice(11, 16)}–${formatTimestamp(f.end).slice(11, 16)}  ${hit ? `found after ${fmtDelay(hit.start - f.start)} on ${hit.stream.split('/')[1]} (${hit.reason ?? hit.detector})` : 'missed'}`);
      }
      const outside = alerts.filter((a) => !faults.some((f: FaultEvent) => a.stream.startsWith(`${f.device}/`) && a.start >= f.start && a.start <= f.end + 600_000));
      out();
      out(`${found} of ${faults.length} faults found; ${outside.length} alerts outside any fault (false alarms, or a fault's aftermath past 10 min).`);
      out(`Try: npm run -s edgewise -- sim --help, npm run -s edgewise -- replay --help, npm run -s edgewise -- backtest --help`);
    }

function fmtDelay(ms: number): string {
  return ms < 60_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}
