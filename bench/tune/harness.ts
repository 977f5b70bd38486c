/**
 * Tuning harness: runs a detector configuration over NAB and SKAB in memory and scores it with
 * src/backtest (NAB rules, standard profile, one detection per raised alert, fixed threshold).
 *
 *   npx tsx bench/tune/harness.ts                 # the committed defaults, per-corpus table
 *   npx tsx bench/tune/harness.ts --detail        # per-file rows
 *   npx tsx bench/tune/harness.ts --write OUT     # also write NAB-scorer CSVs (timestamp,anomaly_score)
 * Every script here scores with NAB's standard profile, or the one named by TUNE_PROFILE.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { backtestFile, NAB_PROFILES, summarise, type FileMetrics } from '../../src/backtest/metrics.js';
import { compileDetect } from '../../src/compile.js';
import { detectStepSchema } from '../../test/helpers/schemas.js';
import { formatTimestamp } from '../../src/core/time.js';
import { loadCorpus, NAB_DIR, NAB_LABELS, SKAB_DIR, SKAB_LABELS, type LoadedFile } from './corpus.js';

export interface Config {
  /** A `detect` step as written in a pipeline (parsed with detectStepSchema); one per column. */
  step: Record<string, unknown>;
  /** Only these columns (multivariate files); default all. */
  columns?: string[];
}

/**
 * Per-row flags for one file, with the engine's semantics: one detect state per column (stream),
 * a row is "alert" while any column's alert is active; a detection is a rising edge.
 */
export function runFile(f: LoadedFile, cfg: Config): { raised: Uint8Array; active: Uint8Array } {
  const n = f.ts.length;
  const step = compileDetect(detectStepSchema.parse(cfg.step));
  const use = f.columns.map((c) => !cfg.columns || cfg.columns.includes(c));
  const states = f.columns.map((c) => step.createKeyState(`${f.key}/${c}`));
  const raised = new Uint8Array(n);
  const active = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let any = false;
    for (let c = 0; c < states.length; c++) {
      const v = f.values[c]![i]!;
      if (!use[c] || !Number.isFinite(v)) continue;
      if (step.update(states[c], f.ts[i]!, v).alertActive) any = true;
    }
    active[i] = any ? 1 : 0;
    raised[i] = any && (i === 0 || active[i - 1] === 0) ? 1 : 0;
  }
  return { raised, active };
}

/** NAB profile of every score here: TUNE_PROFILE=reward_low_FP_rate or reward_low_FN_rate (default standard). */
export const PROFILE = NAB_PROFILES[(process.env.TUNE_PROFILE ?? 'standard') as keyof typeof NAB_PROFILES];
if (PROFILE === undefined) throw new Error(`TUNE_PROFILE must be one of ${Object.keys(NAB_PROFILES).join(', ')}`);

export function evaluate(files: LoadedFile[], cfg: Config): FileMetrics[] {
  return files.map((f) => {
    const { active } = runFile(f, cfg);
    const rows = Array.from(f.ts, (ts, i) => ({ ts, alert: active[i] === 1 }));
    return backtestFile(rows, f.windows, { file: f.key, profile: PROFILE, history: historyRows(f) });
  });
}

/**
 * For a file with an unlabelled part (`scoreFrom`), its rows: the detector's history, not scored,
 * in place of NAB's probationary period (as `edgewise backtest --score-from`); else undefined.
 */
export function historyRows(f: LoadedFile): number | undefined {
  if (f.scoreFrom === undefined) return undefined;
  const i = f.ts.findIndex((t) => t >= f.scoreFrom!);
  return i < 0 ? f.ts.length : i;
}

export function writeResults(files: LoadedFile[], cfg: Config, outDir: string): void {
  for (const f of files) {
    const { raised } = runFile(f, cfg);
    const lines = ['timestamp,anomaly_score'];
    for (let i = 0; i < f.ts.length; i++) lines.push(`${formatTimestamp(f.ts[i]!)},${raised[i]}`);
    const p = join(outDir, f.key);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, lines.join('\n') + '\n');
  }
}

export function row(name: string, m: ReturnType<typeof summarise>): string {
  const pct = (x: number) => (Number.isNaN(x) ? '   -' : (100 * x).toFixed(0).padStart(4));
  return `${name.padEnd(28)} ${m.nab.score.toFixed(1).padStart(6)} ${String(m.detected).padStart(3)}/${String(m.windows).padEnd(3)} ${String(m.falseAlerts).padStart(5)} ${pct(m.precision)} ${pct(m.recall)} ${pct(m.f1)}  ${Number.isNaN(m.meanDelayFraction) ? '-' : m.meanDelayFraction.toFixed(2)}`;
}
export const HEADER = `${'set'.padEnd(28)} ${'NAB'.padStart(6)} det/win ${'FA'.padStart(5)} prec  rec   F1  delay(frac of window)`;

export function loadAll() {
  return { nab: loadCorpus(NAB_DIR, NAB_LABELS), skab: loadCorpus(SKAB_DIR, SKAB_LABELS) };
}
