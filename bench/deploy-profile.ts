/**
 * How the deploy files start the runtime (deploy/balena/Dockerfile, deploy/balena/edgewise.service):
 * Node flags and environment. The runtime and ingest benches use the same by default, and a test
 * (test/deploy/config.test.ts) keeps the deploy files in step. Why these: docs/drivers.md.
 */
export const DEPLOY_NODE_FLAGS = ['--max-semi-space-size=1', '--heap-growing-percent=20', '--single-threaded-gc'] as const;
export const DEPLOY_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '1', MALLOC_MMAP_THRESHOLD_: '32768' };

/** `A=1 B=2` → { A: '1', B: '2' } (for the benches' *_ENV variables). */
export function parseEnvList(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split(' ')
      .filter(Boolean)
      .map((kv) => {
        const i = kv.indexOf('=');
        return [kv.slice(0, i), kv.slice(i + 1)];
      }),
  );
}
