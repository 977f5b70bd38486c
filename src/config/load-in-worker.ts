import { Worker } from 'node:worker_threads';
import { ConfigError, type ConfigIssue } from './errors.js';
import type { LoadedGateway } from './load.js';

type Reply = { loaded: LoadedGateway } | { issues: ConfigIssue[] } | { error: string };

/**
 * `loadGatewayFile` run in a worker thread, for `edgewise run`: the YAML parser, zod and every
 * config schema load in the worker and are freed with it, so a long-running gateway keeps none
 * of them resident (about 10 MB; docs/drivers.md). The result is plain data (structured clone);
 * config errors come back as the same ConfigError, with every issue.
 */
export function loadGatewayFileInWorker(file: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedGateway> {
  return new Promise((resolve, reject) => {
    let reply: Reply | undefined;
    const worker = startWorker({ file, env: { ...env } });
    worker.once('message', (m: Reply) => (reply = m));
    worker.once('error', (err) => reject(new Error(`loading ${file}: ${err.message}`)));
    worker.once('exit', (code) => {
      if (!reply) return reject(new Error(`loading ${file}: the config loader stopped (exit code ${code}) without a result`));
      if ('loaded' in reply) resolve(reply.loaded);
      else if ('issues' in reply) reject(new ConfigError(reply.issues));
      else reject(new Error(reply.error));
    });
  });
}

/** Built (dist/), the entry is plain JavaScript. From a checkout under tsx, the worker does not
 * inherit tsx's loader (Node 20), so it imports the TypeScript entry through tsx's API. */
function startWorker(workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./load-worker.js', import.meta.url), { workerData });
  const entry = new URL('./load-worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then((t) => t.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(import.meta.url)}))`;
  return new Worker(code, { eval: true, workerData });
}
