/**
 * Config schemas of the built-in drivers: importing this module registers each as a branch of
 * `inputs[]` in the gateway config schema. The drivers themselves register in drivers/index.ts.
 */
import { registerInputSchema } from '../src/config/gateway.js';
import { gpioInput } from './gpio/config.js';
import { mqttInput } from './mqtt/config.js';
import { serialInput } from './serial/config.js';

for (const s of [serialInput, gpioInput, mqttInput]) registerInputSchema(s);
