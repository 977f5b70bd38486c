/** A small tmpfs for disk-full tests (needs root, as in CI), and a ballast file to fill it. */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Mount a tmpfs of `size` (e.g. '2m'); a string says why it could not (the test then skips). */
export function mountTmpfs(size: string): { dir: string; unmount: () => void } | string {
  if (process.platform !== 'linux') return 'not Linux';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'edgewise-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    return `cannot mount a tmpfs (needs root): ${(err as Error).message.split('\n')[0]}`;
  }
  return {
    dir,
    unmount: () => {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Fill the file system but `leave` bytes with a ballast file (as far as it goes: others may be writing); returns its path. */
export function fill(dir: string, leave: number, name = 'ballast'): string {
  const f = path.join(dir, name);
  const s = statfsSync(dir);
  let left = Math.max(0, s.bavail * s.bsize - leave);
  const fd = openSync(f, 'w');
  try {
    const chunk = Buffer.alloc(64 * 1024);
    while (left > 0) left -= writeSync(fd, chunk, 0, Math.min(chunk.length, left));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return f;
}
