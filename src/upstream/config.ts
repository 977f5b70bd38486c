import { z } from 'zod';
import { durationSchema } from '../core/units.js';

const TOPIC_PREFIX_RE = /^[^#+\u0000]+$/;

/** The upstream MQTT broker that aggregates and alerts are forwarded to. See docs/upstream.md. */
export const upstreamConfigSchema = z
  .strictObject({
    url: z
      .string()
      .regex(/^(mqtts?|tcp|tls|ssl):\/\/[^\s]+$/, 'expected a broker URL such as mqtt://broker.local:1883 or mqtts://host:8883')
      .describe('Broker URL, e.g. mqtt://broker.local:1883 or mqtts://host:8883.'),
    protocol_version: z
      .union([z.literal(4), z.literal(5)])
      .default(4)
      .describe('MQTT protocol: 4 (MQTT 3.1.1) or 5 (MQTT 5).'),
    client_id: z.string().min(1).max(256).optional().describe('MQTT client id. Default: edgewise-<gateway id>.'),
    username: z.string().optional().describe('Username for the broker.'),
    password: z.string().optional().describe('Password for the broker (prefer password_file).'),
    password_file: z.string().optional().describe('File holding the password (trailing newline trimmed), relative to the working directory.'),
    tls: z
      .strictObject({
        ca: z.string().optional().describe('PEM file with the CA certificate(s) that signed the broker certificate.'),
        cert: z.string().optional().describe('PEM file with the client certificate (mutual TLS).'),
        key: z.string().optional().describe('PEM file with the client private key (mutual TLS).'),
        reject_unauthorized: z
          .boolean()
          .default(true)
          .describe('Verify the broker certificate and host name. Turn off only for a lab broker with a self-signed certificate.'),
        servername: z.string().optional().describe('TLS server name (SNI) when it differs from the URL host.'),
      })
      .default({ reject_unauthorized: true })
      .describe('TLS settings, used with mqtts:// URLs.'),
    topic_prefix: z
      .string()
      .regex(TOPIC_PREFIX_RE, 'a topic prefix may not contain + or #')
      .default('edgewise/v1')
      .describe('Topics are <topic_prefix>/<gateway>/<kind>/<device>/<metric> and <topic_prefix>/<gateway>/status.'),
    keepalive: durationSchema.default(30_000).describe('MQTT keepalive.'),
    connect_timeout: durationSchema.default(10_000).describe('Give up a connection attempt after this long (then back off and retry).'),
    reconnect_min: durationSchema.default(500).describe('First reconnect delay; doubles after each failed attempt...'),
    reconnect_max: durationSchema
      .default(60_000)
      .describe('...up to this. Each delay is randomised (jitter: between half and all of it). The backoff starts over after a connection that lasted 10 s.'),
    reconnect_probe: durationSchema
      .default(2000)
      .describe('While waiting longer than this to reconnect, open a bare TCP connection to the broker this often and reconnect at once when it answers. 0 = off.'),
    max_inflight: z
      .number()
      .int()
      .min(1)
      .max(65_000)
      .default(500)
      .describe('Messages published and not yet acknowledged (PUBACK) at most.'),
    drain_rate: z
      .number()
      .nonnegative()
      .default(0)
      .describe(
        'For metered links: messages per second at most from what was buffered before the connection came up (alerts first, then aggregates, then raw), on top of fresh traffic, which is never limited. 0 = unlimited: the backlog drains as fast as the broker acknowledges.',
      ),
    fresh_queue: z
      .number()
      .int()
      .min(1)
      .default(10_000)
      .describe('Fresh messages waiting in memory for an in-flight slot; beyond this they are read back from the outbox like backlog.'),
    stop_timeout: durationSchema.default(2000).describe('On shutdown, wait this long for in-flight acknowledgements.'),
  })
  .describe('The upstream MQTT broker that aggregates and alerts are forwarded to.');

export type UpstreamConfig = z.output<typeof upstreamConfigSchema>;
