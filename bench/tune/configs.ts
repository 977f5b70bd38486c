import type { Config } from './harness.js';

/** The committed default: `detect: { detector: default }` with all its defaults, one per column. */
export function defaultConfig(): Config {
  return { step: { detector: 'default' } };
}
