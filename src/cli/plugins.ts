/**
 * Loads every plugin module that registers with the runtime, so schemas and the runtime see them:
 * driver kinds (the `inputs[]` section of the gateway config) and, when it exists, the detectors
 * module (the `detect` pipeline step). CLI commands import this once, before building a config
 * schema. Add one import line per plugin module.
 */
import '../../drivers/index.js';
import '../detectors/index.js';
import '../engine/operators/index.js';
import '../domain/operators.js';
