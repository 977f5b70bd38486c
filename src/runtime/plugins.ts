/**
 * Registers the runtime side of every plugin: driver kinds, the `detect` step compiler and the
 * operator step compilers. Nothing here loads the schema library: configs arrive validated
 * (src/config/plugins.ts registers the schemas). Add one import line per plugin module.
 */
import '../../drivers/index.js';
import '../detectors/index.js';
import '../engine/operators/index.js';
import '../domain/operators.js';
