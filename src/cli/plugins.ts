/**
 * Every plugin, both sides: runtime (drivers, step compilers; src/runtime/plugins.ts) and config
 * schemas (src/config/plugins.ts). For commands and tests that validate and run in one process.
 */
import '../runtime/plugins.js';
import '../config/plugins.js';
