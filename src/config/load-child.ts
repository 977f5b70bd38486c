/** Child-process entry of loadGatewayFileInChild (load-in-child.ts): load, validate, send the result, exit. */
import { ConfigError } from '../core/config-error.js';
import { loadGatewayFile } from './load.js';

process.once('message', (m: { file: string; env: NodeJS.ProcessEnv }) => {
  let reply: unknown;
  try {
    reply = { loaded: loadGatewayFile(m.file, m.env) };
  } catch (err) {
    reply = err instanceof ConfigError ? { issues: err.issues } : { error: err instanceof Error ? err.message : String(err) };
  }
  process.send!(reply, () => process.disconnect());
});
