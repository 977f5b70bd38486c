import { spawnSync } from 'node:child_process';

/** Run the `edgewise` command (src/cli/main.ts) with no EDGEWISE_CONFIG: its exit code, stdout and stderr. */
export function edgewise(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', env: { ...process.env, EDGEWISE_CONFIG: '' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
