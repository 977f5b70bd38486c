import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { loadPipelineFile } from '../config/load.js';
import { NAB_PROFILES, type FileMetrics, type TotalMetrics } from '../backtest/metrics.js';
import { backtest } from '../backtest/run.js';
import { parseTimestamp } from '../core/time.js';

export function register(program: Command): void {
  program
    .command('backtest')
    .description('Compare a pipeline\'s alerts with labelled anomaly windows (NAB windows format): detections, misses, false alerts, precision/recall/F1, delay and a NAB-rules score.')
    .requiredOption('-i, --input <file|dir>', 'a recorded file, or a folder searched recursively for .csv/.jsonl files')
    .requiredOption('-l, --labels <file>', 'anomaly windows: { "<dir>/<file>.csv": [["start", "end"], ...] } (NAB combined_windows.json format)')
    .option('-p, --pipeline <file>', 'pipeline YAML (default: the default detector on every column)')
    .option('--profile <name>', 'NAB profile: standard, reward_low_FP_rate or reward_low_FN_rate', 'standard')
    .option('--by-type', 'score by type: an alert counts only for a window of its type (labels [start, end, type]; the type of an alert is its detector name, `-` read as `_`), with a table per type')
    .option('--type <detector=type...>', 'with --by-type: the label type of a detector whose name differs, e.g. gps-silent=gps_loss')
    .option('--score-from <time>', 'score rows from this time on (ISO 8601, or ms since the epoch): the rows before are the detector\'s history — run, not scored, in place of NAB\'s probationary period (a training period nobody labelled)')
    .option('--json', 'print the full report as JSON on stdout')
    .addHelpText(
      'after',
      `
A detection is the row where an alert is raised (one per alert). Windows and the NAB score follow
NAB's rules (probationary period, scaled sigmoid, standard profile weights) at the pipeline's own
fixed decision threshold; nothing is optimised afterwards. Label keys are matched to files by
path suffix (e.g. "realKnownCause/nyc_taxi.csv").

Example:
  edgewise backtest --input ../shared/data/nab/data --labels ../shared/data/nab/labels/combined_windows.json`,
    )
    .action(async (o: { input: string; labels: string; pipeline?: string; profile: string; json?: boolean; byType?: boolean; type?: string[]; scoreFrom?: string }) => {
      const profile = NAB_PROFILES[o.profile as keyof typeof NAB_PROFILES];
      if (!profile) throw new Error(`--profile ${o.profile}: expected one of ${Object.keys(NAB_PROFILES).join(', ')}`);
      const scoreFrom = o.scoreFrom === undefined ? undefined : parseTimestamp(o.scoreFrom);
      if (scoreFrom !== undefined && !Number.isFinite(scoreFrom)) throw new Error(`--score-from ${o.scoreFrom}: expected a time, e.g. 2026-01-15T00:00:00Z or 1768435200000`);
      const spec = o.pipeline ? loadPipelineFile(o.pipeline) : undefined;
      const types: Record<string, string> = {};
      for (const m of o.type ?? []) {
        const eq = m.indexOf('=');
        if (eq <= 0 || eq === m.length - 1) throw new Error(`--type ${m}: expected <detector>=<label type>, e.g. gps-silent=gps_loss`);
        types[m.slice(0, eq)] = m.slice(eq + 1);
      }
      const bar = process.stderr.isTTY
        ? new cliProgress.SingleBar({ stream: process.stderr, format: 'backtest |{bar}| {value}/{total} files | {file}', hideCursor: true }, cliProgress.Presets.shades_classic)
        : undefined;
      let started = false;
      const report = await backtest({
        input: o.input,
        labels: o.labels,
        pipeline: spec,
        profile,
        byType: o.byType,
        types,
        scoreFrom,
        onFile: bar
          ? (i, n, file) => {
              if (!started) {
                bar.start(n, 0, { file });
                started = true;
              }
              bar.update(i, { file });
            }
          : undefined,
      });
      bar?.stop();
      if (o.json) {
        process.stdout.write(JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
        return;
      }
      const lines = [`pipeline "${report.pipeline}", labels ${report.labels}, profile ${report.profile}${report.byType ? ', by type' : ''}`, '', formatTable(report.files, report.total)];
      if (report.byType) lines.push('', formatTypeTable(report.byType));
      if (report.skipped.length) lines.push('', `skipped (no labels entry): ${report.skipped.length} file(s): ${report.skipped.slice(0, 5).join(', ')}${report.skipped.length > 5 ? ', ...' : ''}`);
      if (Object.keys(report.inputDrops).length) lines.push(`unreadable rows: ${JSON.stringify(report.inputDrops)}`);
      if (Object.keys(report.pipelineDrops).length) lines.push(`readings refused by the pipeline: ${JSON.stringify(report.pipelineDrops)}`);
      for (const [step, counts] of Object.entries(report.operators ?? {})) {
        lines.push(`step ${step}: ${Object.entries(counts).map(([k, v]) => `${k}=${v}`).join(' ')}`);
      }
      if (report.learningAtEnd) {
        const l = report.learningAtEnd;
        lines.push(`still learning at the end (a detector in its warm-up: no alert could come from those streams): ${l.length} file(s): ${l.slice(0, 5).map((f) => `${f.file} (${f.streams} streams)`).join(', ')}${l.length > 5 ? ', ...' : ''}`);
      }
      if (report.late) lines.push(`alerts judged late: ${report.late.alerts}, each scored at its own time (the longest came ${(report.late.maxDelayMs / 1000).toFixed(1)} s after it began)`);
      process.stdout.write(lines.join('\n') + '\n');
    });
}

function pct(x: number): string {
  return Number.isNaN(x) ? '-' : `${(100 * x).toFixed(0)}%`;
}

function delay(ms: number): string {
  if (Number.isNaN(ms)) return '-';
  const a = Math.abs(ms);
  if (a >= 3_600_000) return `${(ms / 3_600_000).toFixed(1)}h`;
  if (a >= 60_000) return `${(ms / 60_000).toFixed(1)}m`;
  return `${(ms / 1000).toFixed(0)}s`;
}

const HEAD = (first: string) => `| ${first} | windows | detected | missed | false alerts | precision | recall | F1 | mean delay | NAB |`;
const SEP = '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
const line = (name: string, m: TotalMetrics | FileMetrics) =>
  `| ${name} | ${m.windows} | ${m.detected} | ${m.missed} | ${m.falseAlerts} | ${pct(m.precision)} | ${pct(m.recall)} | ${pct(m.f1)} | ${delay(m.meanDelayMs)} | ${Number.isNaN(m.nab.score) ? '-' : m.nab.score.toFixed(1)} |`;

/** A markdown table: one row per file, then the total. */
export function formatTable(files: FileMetrics[], total: TotalMetrics): string {
  return [HEAD('file'), SEP, ...files.map((f) => line(f.file, f)), line(`**total (${total.files} files)**`, total)].join('\n');
}

/** A markdown table: one row per type (a type with no window has only false alerts; NAB "-"). */
export function formatTypeTable(byType: Record<string, TotalMetrics>): string {
  return [HEAD('type'), SEP, ...Object.entries(byType).map(([t, m]) => line(t, m))].join('\n');
}
