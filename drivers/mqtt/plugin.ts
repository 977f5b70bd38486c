/**
 * The `mqtt` driver, declared once: kind, config schema, factory, docs and a sample config.
 * Listed in the composition root (src/plugins.ts); more in README.md beside this file.
 */
import type { DriverPlugin } from '../../src/core/plugin.js';
import { mqttConfigSchema, type MqttConfig } from './config.js';
import { MqttDriver } from './index.js';

export const mqttPlugin: DriverPlugin<MqttConfig> = {
  type: 'driver',
  kind: 'mqtt',
  description: 'MQTT input: an embedded broker local devices publish to, or a client of an existing broker; topics map to streams by template.',
  schema: mqttConfigSchema,
  create: (name, config, deps) => new MqttDriver(name, config, deps),
  sample: `
# MQTT input with the embedded broker: ESP32s on the LAN publish sensors/<device>/<metric>.
inputs:
  - type: mqtt
    name: local-devices
    mode: embedded
    topics: ["sensors/{device}/{metric}"]
    ignore_topics: ["cmd/#", "status/#"]
    max_payload_bytes: 16KB
    broker:
      host: 0.0.0.0            # default 127.0.0.1 (loopback only)
      port: 1883
      max_packet_size: 64KB
      allow_anonymous: false
      users:
        - username: esp32-pump-1
          password_hash: "scrypt$16384$8$1$xAOaQLEq-7k7StYfdjNG2Q$-7XQkQjoOGhFImIEncL6-5l0p5QuaQsJLQeVvvtbSoA"   # edgewise hash-password (this one: "change-me")
          publish: ["sensors/%u/#"]   # %u = username, %c = client id
          subscribe: ["cmd/%u/#"]
  # Or subscribe to an existing Mosquitto instead:
  - type: mqtt
    name: plant-mosquitto
    mode: client
    topics: ["plant/{device}/{metric}"]
    client:
      url: mqtts://mosquitto.local:8883
      username: edgewise
      password_env: PLANT_MQTT_PASSWORD
      ca_file: /etc/edgewise/plant-ca.pem
`,
};
