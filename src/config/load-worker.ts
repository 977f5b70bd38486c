/** Worker-thread entry of loadGatewayFileInWorker (load-in-worker.ts): load, validate, post the result. */
import { parentPort, workerData } from 'node:worker_threads';
import { ConfigError } from './errors.js';
import { loadGatewayFile } from './load.js';

const { file, env } = workerData as { file: string; env: NodeJS.ProcessEnv };
try {
  parentPort!.postMessage({ loaded: loadGatewayFile(file, env) });
} catch (err) {
  if (err instanceof ConfigError) parentPort!.postMessage({ issues: err.issues });
  else parentPort!.postMessage({ error: err instanceof Error ? err.message : String(err) });
}
