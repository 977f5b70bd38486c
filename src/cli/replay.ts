import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { loadPipelineFile } from '../config/load.js';
import type { PipelineSpec } from '../config/pipeline.js';
import { replay } from '../replay/replay.js';
import { defaultPipeline } from '../replay/default-pipeline.js';

export function register(program: Command): void {
  program
    .command('replay')
    .description('Run recorded readings through a pipeline as fast as the CPU allows.')
    .requiredOption('-i, --input <file>', 'recorded readings: CSV (timestamp,value | timestamp;col1;col2... | with a stream column) or JSON lines')
    .option('-p, --pipeline <file>', 'pipeline YAML (default: the default anomaly detector on every column)')
    .option('-o, --output <file>', 'output file, .csv or .jsonl (default: JSON lines on stdout)')
    .option('--format <csv|jsonl>', 'output format when the file name does not say')
    .option('--scores', 'write one row per input row (timestamp, values, anomaly_score, alert) instead of what the pipeline emitted; the default without --pipeline')
    .option('--device <name>', 'device part of stream keys for CSVs without a stream column (default: the file name)')
    .option('--quiet', 'no progress bar or summary')
    .addHelpText(
      'after',
      `
Times without a zone are read as UTC; ISO 8601 times with Z or an offset are honoured; numbers are
epoch seconds or milliseconds. Label columns (anomaly, changepoint, label, is_anomaly) are never fed
to the pipeline.

Examples:
  edgewise replay -i machine_temperature.csv -o scores.csv
  edgewise replay -i pump.csv -p pipelines/examples/machine-temperature.yaml -o hourly.csv`,
    )
    .action(async (o: { input: string; pipeline?: string; output?: string; format?: 'csv' | 'jsonl'; scores?: boolean; device?: string; quiet?: boolean }) => {
      const spec: PipelineSpec = o.pipeline ? loadPipelineFile(o.pipeline) : defaultPipeline();
      const mode = o.scores || !o.pipeline ? 'scores' : 'emissions';
      const showBar = !o.quiet && process.stderr.isTTY === true;
      const bar = showBar ? new cliProgress.SingleBar({ stream: process.stderr, format: 'replay |{bar}| {percentage}% {value}/{total} MB | {eta_formatted} left', hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
      let started = false;
      const summary = await replay({
        input: o.input,
        pipeline: spec,
        output: o.output,
        format: o.format,
        mode,
        inputOptions: { device: o.device },
        onProgress: bar
          ? (read, total) => {
              const mb = (n: number) => Math.round((n / 1048576) * 10) / 10;
              if (!started) {
                bar.start(mb(total), 0);
                started = true;
              }
              bar.update(mb(read));
            }
          : undefined,
      });
      bar?.stop();
      if (summary.readings === 0) {
        const unreadable = Object.keys(summary.inputDrops).length ? `; unreadable rows: ${JSON.stringify(summary.inputDrops)}` : '';
        throw new Error(`replay: ${o.input} gave no readings (${summary.rows === 0 ? 'the file has no data rows' : `${summary.rows} rows without a numeric value`}${unreadable}); nothing was replayed`);
      }
      if (!o.quiet) {
        const p = summary.pipeline;
        const rate = summary.seconds > 0 ? Math.round(summary.readings / summary.seconds) : summary.readings;
        const lines = [
          `replayed ${summary.rows} rows (${summary.readings} readings) through pipeline "${spec.name}" in ${summary.seconds.toFixed(2)} s (${rate.toLocaleString('en')} readings/s)`,
          `accepted ${p.accepted}, late ${p.late}, filtered ${p.filtered}, windows ${p.windowsFired}, emitted ${JSON.stringify(p.emitted)}`,
        ];
        if (Object.keys(p.dropped).length) lines.push(`dropped (bad readings): ${JSON.stringify(p.dropped)}`);
        if (Object.keys(summary.inputDrops).length) {
          lines.push(`unreadable rows: ${JSON.stringify(summary.inputDrops)}`);
          for (const [reason, example] of Object.entries(summary.inputDropExamples)) if (example) lines.push(`  ${reason}, e.g. ${example}`);
        }
        // a short recording may end before a detector has learnt enough to judge: say so, or "no alert" reads as "no anomaly"
        for (const d of p.detectors) if (d.learning > 0) lines.push(`detect step ${d.step}: ${d.learning} of ${d.streams} streams still learning at the end (in the detector's warm-up: nothing judged yet, no alert could come)`);
        if (o.output) lines.push(`wrote ${o.output}`);
        process.stderr.write(lines.join('\n') + '\n');
      }
    });
}
