import type { Logger } from '../core/log.js';

/**
 * SIGINT and SIGTERM stop a long-running command cleanly: `close()` runs once, then the process
 * exits 0 (1 if closing failed). A second signal while closing exits at once with 130.
 */
export function stopOnSignals(log: Logger, close: () => Promise<void>, detail: () => Record<string, unknown> = () => ({})): { readonly stopping: boolean } {
  const state = { stopping: false };
  const stop = async (signal: string) => {
    if (state.stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    state.stopping = true;
    log.info({ signal, ...detail() }, 'stopping');
    try {
      await close();
      process.exit(0);
    } catch (err) {
      log.error({ err: (err as Error).message }, 'stop failed');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  return state;
}
