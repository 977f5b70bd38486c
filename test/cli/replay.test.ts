import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function edgewise(...args: string[]) {
  // A time limit, so a command that never ends fails the test instead of hanging the suite.
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, EDGEWISE_LOG_FORMAT: 'json' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A NAB-style file: 5-minute steps, a level with noise, then a jump the default detector must flag. */
function nabStyle(rows: number, jumpAt: number): string {
  let seed = 7;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const lines = ['timestamp,value'];
  const t0 = Date.UTC(2024, 0, 1);
  for (let i = 0; i < rows; i++) {
    const ts = new Date(t0 + i * 300_000).toISOString().replace('T', ' ').slice(0, 19);
    lines.push(`${ts},${(50 + rnd() + (i >= jumpAt ? 25 : 0)).toFixed(3)}`);
  }
  return lines.join('\n') + '\n';
}

test('replay without a pipeline: one row per input row with anomaly_score and alert, for NAB’s scorer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-replay-'));
  try {
    writeFileSync(join(dir, 'machine.csv'), nabStyle(2000, 1500));
    const r = edgewise('replay', '--input', join(dir, 'machine.csv'), '--output', join(dir, 'out.csv'));
    assert.equal(r.code, 0, r.stderr);
    const lines = readFileSync(join(dir, 'out.csv'), 'utf8').trim().split('\n');
    assert.equal(lines[0], 'timestamp,value,anomaly_score,alert');
    assert.equal(lines.length, 2001, 'one row per input row');
    const rows = lines.slice(1).map((l) => l.split(','));
    assert.equal(rows[0]![0], '2024-01-01 00:00:00', 'timestamps are written as they were read');
    const firstAlert = rows.findIndex((c) => c[3] === '1');
    assert.ok(firstAlert >= 1500 && firstAlert <= 1505, `the jump at row 1500 raises an alert at once (first alert at ${firstAlert})`);
    for (const c of rows) assert.ok(Number(c[2]) >= 0 && Number(c[2]) <= 1, 'scores are in [0, 1]');
    assert.match(r.stderr, /replayed 2000 rows/);
    assert.doesNotMatch(r.stderr, /still learning/, 'past the warm-up: nothing to say');
    // a recording shorter than the default detector's warm-up (100 readings): "no alert" is not "no anomaly"
    writeFileSync(join(dir, 'short.csv'), nabStyle(60, 1000));
    const short = edgewise('replay', '--input', join(dir, 'short.csv'), '--output', join(dir, 'short-out.csv'));
    assert.equal(short.code, 0, short.stderr);
    assert.match(short.stderr, /detect step default: 1 of 1 streams still learning at the end \(in the detector's warm-up/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('replay with a pipeline: what it emitted, as JSON lines; bad rows counted, not fatal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-replay-'));
  try {
    writeFileSync(join(dir, 'p.yaml'), 'name: hourly\ninput: { streams: ["**"] }\nsteps:\n  - window: { type: tumbling, size: 1h, aggregates: [count, mean] }\n  - output: hourly\n');
    writeFileSync(join(dir, 'in.csv'), nabStyle(48, 1000) + '2024-01-01 04:00:00\n2024-01-01 04:05:00,NaN\n');
    const r = edgewise('replay', '--input', join(dir, 'in.csv'), '--pipeline', join(dir, 'p.yaml'));
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(out.map((e) => e.result.count), [12, 12, 12, 12]);
    assert.ok(out.every((e) => e.kind === 'aggregate' && e.output === 'hourly'));
    assert.match(r.stderr, /dropped \(bad readings\): \{"nan":1\}/);
    assert.match(r.stderr, /unreadable rows: \{"wrong_columns":1\}/);
    assert.match(r.stderr, /wrong_columns, e\.g\. \S*in\.csv:\d+: expected 2 columns, found 1/, 'where, and what was wrong');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('replay refuses an invalid pipeline before reading anything, with FILE:LINE:COLUMN', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-replay-'));
  try {
    writeFileSync(join(dir, 'p.yaml'), 'name: x\ninput: { streams: ["**"] }\nsteps:\n  - windw: { type: tumbling }\n');
    const r = edgewise('replay', '--input', join(dir, 'missing.csv'), '--pipeline', join(dir, 'p.yaml'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /p\.yaml:4:5: error: steps\[0\]: unknown field "windw"; did you mean "window"\?/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every subcommand has --help; --version prints the version', () => {
  const top = edgewise('--help');
  assert.equal(top.code, 0);
  for (const cmd of ['run', 'demo', 'validate', 'replay', 'backtest', 'schema', 'hash-password', 'sim']) {
    assert.match(top.stdout, new RegExp(`\\n  ${cmd}\\b`), `${cmd} is listed`);
    const r = edgewise(cmd, '--help');
    assert.equal(r.code, 0, `${cmd} --help`);
    assert.match(r.stdout, new RegExp(`Usage: edgewise ${cmd}`));
  }
  assert.match(edgewise('--version').stdout, /^\d+\.\d+\.\d+/);
});

test('demo --offline runs simulated pumps through a pipeline and reports found faults against ground truth', () => {
  const r = edgewise('demo', '--offline', '--devices', '2', '--hours', '2', '--seed', '3');
  assert.equal(r.code, 0, r.stderr);
  const m = /(\d+) of (\d+) faults found/.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.ok(Number(m[2]) > 0, 'the simulator injected faults');
  assert.ok(Number(m[1]) > 0, 'the default detector found some of them');
});

test('replay refuses what would silently do nothing: an empty input, an output name whose format it cannot tell', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-replay-'));
  try {
    writeFileSync(join(dir, 'empty.csv'), '');
    writeFileSync(join(dir, 'header.csv'), 'timestamp,value\n');
    writeFileSync(join(dir, 'one.csv'), 'timestamp,value\n2024-01-01 00:00:00,1\n');
    for (const f of ['empty.csv', 'header.csv']) {
      const r = edgewise('replay', '--input', join(dir, f), '--quiet');
      assert.equal(r.code, 1, `${f}: ${r.stderr}`);
      assert.match(r.stderr, /gave no readings \(the file has no data rows\)/);
    }
    const p = edgewise('replay', '--input', join(dir, 'one.csv'), '--output', join(dir, 'x.parquet'));
    assert.equal(p.code, 1);
    assert.match(p.stderr, /--output .*x\.parquet: cannot tell the format from the file name; name it \.csv or \.jsonl, or add --format csv\|jsonl/);
    assert.equal(edgewise('replay', '--input', join(dir, 'one.csv'), '--output', join(dir, 'x.parquet'), '--format', 'csv', '--quiet').code, 0, 'an explicit --format is honoured');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sim --csv-out refuses a non-empty folder (stale devices would join the data set); --overwrite replaces an earlier data set', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-sim-'));
  try {
    const args = ['sim', '--domain', 'vitals', '--duration', '1m', '--csv-out', dir];
    assert.equal(edgewise(...args).code, 0);
    writeFileSync(join(dir, 'data', 'stale.csv'), 'timestamp,value\n');
    const again = edgewise(...args);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /the folder is not empty .*add --overwrite/);
    assert.equal(edgewise(...args, '--overwrite').code, 0);
    assert.throws(() => readFileSync(join(dir, 'data', 'stale.csv')), 'the stale file of the earlier run is gone');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--version answers without loading the subcommands', async () => {
  const { registersFor } = await import('../../src/cli/commands.js');
  assert.equal((await registersFor(['--version'])).length, 0, 'no subcommand module is loaded for --version');
  assert.equal((await registersFor(['validate', '--version'])).length, 1);
  const r = edgewise('--version');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
});
