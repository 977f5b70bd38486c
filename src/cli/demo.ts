import type { Command } from 'commander';
import { Simulation, type FaultEvent } from '../../firmware-sim/index.js';
import { pipelineSchema } from '../config/pipeline.js';
import type { AlertRecord } from '../core/records.js';
import { compilePipeline } from '../engine/pipeline.js';
import { formatTimestamp } from '../replay/time.js';

/**
 * `npm start` until the live demo lands: simulated pumps with injected faults, replayed through
 * a pipeline (1-minute summaries and the default detector on every stream) as fast as the CPU
 * allows, and what it found printed next to the simulator's ground truth.
 */
export function register(program: Command): void {
  program
    .command('demo')
    .description('Replay simulated pumps with injected faults through a pipeline and show what it found (no hardware, no broker).')
    .option('--devices <n>', 'simulated pumps', '3')
    .option('--hours <h>', 'hours of simulated time', '6')
    .option('--seed <n>', 'simulator seed (same seed, same run)', '7')
    .action((o: { devices: string; hours: string; seed: string }) => {
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
          const v = s.values[i]!;
          if (Number.isNaN(v)) continue; // the device sent nothing (a dropout)
          readings++;
          p.push({ stream: `${s.device.id}/${metrics[i]}`, ts: s.t, value: v });
        }
      });
      p.flush();
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      const out = (line = '') => process.stdout.write(`${line}\n`);
      out(`Edgewise demo (interim: the live gateway demo is still to come)`);
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
      out(`Try: npx edgewise sim --help, npx edgewise replay --help, npx edgewise backtest --help`);
    });
}

function fmtDelay(ms: number): string {
  return ms < 60_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}
