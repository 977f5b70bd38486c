import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigError, type ConfigIssue } from '../core/config-error.js';
import type { LoadedGateway } from './load.js';

type Reply = { loaded: LoadedGateway } | { issues: ConfigIssue[] } | { error: string };

/**
 * `loadGatewayFile` run in a short-lived child process, for `edgewise run`: the YAML parser, zod
 * and every config schema load there and leave with it, so a long-running gateway keeps none of
 * them resident (about 15 MB; a worker thread would leave ~5 MB of its heap behind; see
 * docs/drivers.md). The result is plain data, structured-cloned over IPC; config errors come back
 * as the same ConfigError, with every issue.
 */
export function loadGatewayFileInChild(file: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedGateway> {
  // Built, this is dist/.../load-in-child.js and the entry is .js; from a checkout under tsx both are
  // .ts and the child needs tsx's loader. Nothing else of our own Node flags is passed on (an
  // --inspect port, a profiler or a preload would clash or run twice).
  const ts = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(new URL(ts ? './load-child.ts' : './load-child.js', import.meta.url));
  const execArgv = ts ? ['--import', import.meta.resolve('tsx')] : [];
  return new Promise((resolve, reject) => {
    let reply: Reply | undefined;
    const child = fork(entry, [], { execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (m: Reply) => (reply = m));
    child.once('error', (err) => reject(new Error(`loading ${file}: could not start the config loader: ${err.message}`)));
    child.once('exit', (code, signal) => {
      if (!reply) return reject(new Error(`loading ${file}: the config loader stopped (${signal ?? `exit code ${code}`}) without a result`));
      if ('loaded' in reply) resolve(reply.loaded);
      else if ('issues' in reply) reject(new ConfigError(reply.issues));
      else reject(new Error(reply.error));
    });
    child.send({ file, env: { ...env } });
  });
}
