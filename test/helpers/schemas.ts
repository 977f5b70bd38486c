/**
 * Config schemas of single plugins, built as the config loader builds them (with the schema kit),
 * for tests and benches that parse one driver's settings or one step.
 */
import { schemaKit } from '../../src/config/schema-kit.js';
import { detectStepSchema as buildDetectStepSchema } from '../../src/detectors/schema.js';
import { builtinPlugins } from '../../src/plugins.js';
import { gpioSchemas } from '../../drivers/gpio/config.js';
import { mqttSchemas } from '../../drivers/mqtt/config.js';
import { serialConfigSchema as buildSerialConfigSchema } from '../../drivers/serial/config.js';
import { telematicsStepSchema as buildTelematicsStepSchema } from '../../src/domain/telematics/schema.js';
import { multivariateStepSchema as buildMultivariateStepSchema } from '../../src/detectors/multivariate/schema.js';

export const serialConfigSchema = buildSerialConfigSchema(schemaKit);
export const gpioConfigSchema = gpioSchemas(schemaKit).config;
export const mqttConfigSchema = mqttSchemas(schemaKit).config;
export const detectStepSchema = buildDetectStepSchema(schemaKit, builtinPlugins.detectors());
export const telematicsStepSchema = buildTelematicsStepSchema(schemaKit);
export const multivariateStepSchema = buildMultivariateStepSchema(schemaKit);
/** Every built-in detector kind. */
export const DETECTOR_KINDS = builtinPlugins.detectors().map((d) => d.kind);
