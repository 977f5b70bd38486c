/**
 * `edgewise backtest --score-from`: the rows before it are the detector's history (a training
 * period nobody labelled), run but not scored, in place of NAB's probationary period.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { backtest } from '../../src/backtest/run.js';
import { pipelineSchema } from '../../src/config/pipeline.js';

const T0 = Date.UTC(2020, 0, 1);
const MIN = 60_000;
const text = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

/** A reading a minute for 2,000 minutes: a burst at 300 (in the history, unlabelled), a labelled one at 1,500. */
function writeCase(dir: string): string {
  const lines = ['timestamp,value'];
  for (let i = 0; i < 2000; i++) lines.push(`${text(T0 + i * MIN)},${i === 300 || i === 1500 ? 50 : 10 + Math.sin(i / 7)}`);
  writeFileSync(join(dir, 'pump.csv'), `${lines.join('\n')}\n`);
  const labels = join(dir, 'labels.json');
  writeFileSync(labels, JSON.stringify({ 'pump.csv': [[text(T0 + 1490 * MIN), text(T0 + 1510 * MIN)]] }));
  return labels;
}

const pipeline = pipelineSchema().parse({ name: 'limit', input: { streams: ['*/value'] }, steps: [{ detect: { detector: 'threshold', above: 30 } }] });

describe('backtest --score-from', () => {
  it('runs the rows before it as history: an alert there is no false alert, and NAB\'s probation is those rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ew-score-from-'));
    try {
      const labels = writeCase(dir);
      const whole = await backtest({ input: dir, labels, pipeline });
      assert.equal(whole.total.falseAlerts, 1, 'scored whole, the burst at 300 is a false alert');
      assert.equal(whole.files[0]!.probationRows, 300, 'NAB: 15 % of 2,000 rows');
      const from = await backtest({ input: dir, labels, pipeline, scoreFrom: T0 + 1000 * MIN });
      assert.equal(from.total.falseAlerts, 0);
      assert.equal(from.total.detected, 1);
      assert.equal(from.files[0]!.probationRows, 1000, 'the history is the probation');
      const typedLabels = join(dir, 'typed.json');
      writeFileSync(typedLabels, JSON.stringify({ 'pump.csv': [[text(T0 + 1490 * MIN), text(T0 + 1510 * MIN), 'threshold']] }));
      const typed = await backtest({ input: dir, labels: typedLabels, pipeline, scoreFrom: T0 + 1000 * MIN, byType: true });
      assert.deepEqual([typed.total.detected, typed.total.falseAlerts], [1, 0], 'by type too');
      assert.equal((await backtest({ input: dir, labels: typedLabels, pipeline, byType: true })).total.falseAlerts, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a time it cannot read, naming the option', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'backtest', '--input', '.', '--labels', 'x.json', '--score-from', 'yesterday'], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--score-from yesterday: expected a time/);
  });
});
