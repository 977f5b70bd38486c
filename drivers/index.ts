/**
 * Built-in drivers: importing this module registers every driver kind with the runtime
 * (`registerDriver`). Their config schemas register in drivers/schemas.ts (kept apart, so the
 * running gateway does not load the schema library).
 */
import { registerDriver, driverFactory } from '../src/core/driver.js';
import { serialDriverFactory } from './serial/index.js';
import { gpioDriverFactory } from './gpio/index.js';
import { mqttDriverFactory } from './mqtt/index.js';

export const builtinDrivers = [serialDriverFactory, gpioDriverFactory, mqttDriverFactory];

for (const f of builtinDrivers) if (!driverFactory(f.kind)) registerDriver(f);

export { serialDriverFactory, gpioDriverFactory, mqttDriverFactory };
export { startEmbeddedBroker, hashPassword, verifyPassword, type EmbeddedBroker, type EmbeddedBrokerOptions } from './mqtt/index.js';
export { SimulatedGpio, simulatedGpio, SIMULATED_GPIO_SERVICE } from './gpio/index.js';
