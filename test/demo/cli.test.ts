import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

function runDemo(args: string[]): Promise<{ code: number | null; out: string }> {
  return run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'demo', ...args]);
}

/** Run a command to its end (killed after 90 s), with stdout and stderr together. */
function run(command: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const kill = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, out });
    });
  });
}

test('edgewise demo --duration 5s --outage 2s: stops by itself, exit 0, everything produced arrived upstream', { timeout: 120_000 }, async () => {
  const r = await runDemo(['--duration', '5s', '--outage', '2s']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /\[uplink\] cut for 2 s/);
  assert.match(r.out, /uplink outages\s+1;/);
  assert.match(r.out, /✔ everything produced arrived upstream: (\d+) of \1\b/, r.out);
});

test('edgewise demo with the demo pipelines: aggregates and an outage, all delivered (not a vacuous 0 of 0)', { timeout: 120_000 }, async () => {
  const r = await runDemo(['--duration', '14s', '--outage', '3s', '--outage-at', '3s', '--pipelines', 'demo', '--devices', '2']);
  assert.equal(r.code, 0, r.out);
  const m = /✔ everything produced arrived upstream: (\d+) of (\d+)/.exec(r.out);
  assert.ok(m, r.out);
  assert.equal(m[1], m[2]);
  assert.ok(Number(m[1]) > 0, `something was produced: ${r.out}`);
  assert.match(r.out, /0 topics with seq gaps/);
});

test('edgewise demo: a bad option is a clear error, exit 2', async () => {
  const r = await runDemo(['--duration', 'soon']);
  assert.equal(r.code, 2);
  assert.match(r.out, /--duration soon: .*expected e\.g\. 20s, 2m/);
});

test('edgewise demo on a terminal leaves the alternate screen once, so the shell prompt does not overwrite the closing summary', { timeout: 120_000 }, async () => {
  // `script` (util-linux, in every Debian) gives the demo a real pseudo-terminal for stdin and stdout.
  const cmd = `${process.execPath} --import tsx src/cli/main.ts demo --duration 4s`;
  const r = await run('script', ['-qefc', cmd, '/dev/null']);
  assert.equal(r.code, 0, r.out);
  const leave = r.out.split('\x1b[?1049l').length - 1;
  assert.equal(r.out.split('\x1b[?1049h').length - 1, 1, 'entered the alternate screen once');
  assert.equal(leave, 1, 'left the alternate screen exactly once');
  assert.ok(r.out.lastIndexOf('\x1b[?1049l') < r.out.indexOf('Edgewise demo stopped'), 'the summary is written after leaving it');
});
