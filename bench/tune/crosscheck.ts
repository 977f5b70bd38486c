/**
 * Cross-check of src/backtest's NAB score against shared/tools/nab_score.py --threshold 0.5 on
 * the same output (1 on rows where an alert is raised, else 0). Needs python3.
 *   npx tsx bench/tune/crosscheck.ts
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarise } from '../../src/backtest/metrics.js';
import { defaultConfig } from './configs.js';
import { evaluate, writeResults } from './harness.js';
import { loadCorpus, NAB_DIR, NAB_LABELS, SKAB_DIR, SKAB_LABELS } from './corpus.js';

const sets = [
  { name: 'NAB subset', dir: NAB_DIR, labels: NAB_LABELS },
  { name: 'SKAB', dir: SKAB_DIR, labels: SKAB_LABELS },
];
for (const s of sets) {
  const files = loadCorpus(s.dir, s.labels);
  const cfg = defaultConfig();
  const ours = summarise(evaluate(files, cfg));
  const out = mkdtempSync(join(tmpdir(), 'ew-xcheck-'));
  try {
    writeResults(files, cfg, out);
    const json = join(out, 'score.json');
    execFileSync('python3', ['/work/shared/tools/nab_score.py', '--results', out, '--labels', s.labels, '--data', s.dir, '--threshold', '0.5', '--json', json, '--quiet'], { stdio: ['ignore', 'ignore', 'inherit'] });
    const py = JSON.parse(execFileSync('cat', [json], { encoding: 'utf8' }));
    const std = py.profiles.standard;
    console.log(`${s.name.padEnd(12)} src/backtest: NAB ${ours.nab.score.toFixed(9)} raw ${ours.nab.raw.toFixed(9)} detected ${ours.detected}/${ours.windows} FP rows ${ours.falseAlerts} | nab_score.py --threshold 0.5: NAB ${Number(std.normalised).toFixed(9)} raw ${Number(std.raw_score).toFixed(9)} detected ${std.windows_detected}/${std.windows_scorable} FP rows ${std.fp_rows}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

