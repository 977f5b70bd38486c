import { z } from 'zod';
import { byteSizeSchema, durationSchema } from '../core/units.js';
import { COMPRESSIONS } from './batch.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is refused on purpose (not allowed in MQTT topics)
const TOPIC_PREFIX_RE = /^[^#+\u0000]+$/;
/** A Sparkplug id (group, edge node) is one topic level: no / + # (Sparkplug B 3.0, topic namespace). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is refused on purpose (not allowed in MQTT topics)
const SPARKPLUG_ID_RE = /^[^/#+\u0000]+$/;

const UPSTREAM_FORMATS = ['json', 'sparkplug_b'] as const;

/** `upstream.sparkplug`: the gateway as a Sparkplug B edge node. See docs/upstream.md, "Sparkplug B". */
const sparkplugConfigSchema = z
  .strictObject({
    group_id: z
      .string()
      .regex(SPARKPLUG_ID_RE, 'a Sparkplug group id is one topic level: it may not contain / + or #')
      .default('edgewise')
      .describe('Sparkplug group id: topics are spBv1.0/<group_id>/<type>/<edge_node_id>[/<device>].'),
    edge_node_id: z
      .string()
      .regex(SPARKPLUG_ID_RE, 'a Sparkplug edge node id is one topic level: it may not contain / + or #')
      .optional()
      .describe('Sparkplug edge node id. Default: the gateway id, with / + # replaced by _.'),
    aliases: z
      .boolean()
      .default(true)
      .describe('Name each metric by a number (alias) in DDATA, declared with its name in the DBIRTH: about half the bytes. Off: every DDATA names its metrics in full.'),
    device_idle: durationSchema
      .default(600_000)
      .describe('A device (the first part of a stream) that sent nothing upstream for this long gets a DDEATH; its next record brings a new DBIRTH. 0 = never.'),
  })
  .describe('Sparkplug B settings, used with format: sparkplug_b.');

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
    format: z
      .enum(UPSTREAM_FORMATS)
      .default('json')
      .describe('Payload format: json (the Edgewise topics and JSON Schemas) or sparkplug_b (Eclipse Sparkplug B: the gateway is an edge node, devices are the first part of each stream).'),
    sparkplug: sparkplugConfigSchema.default({ group_id: 'edgewise', aliases: true, device_idle: 600_000 }),
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
      .describe("Messages published and not yet acknowledged (PUBACK) at most; with MQTT 5, publishes also at most the broker's Receive Maximum less 2 (see docs/upstream.md)."),
    retain: z
      .boolean()
      .default(true)
      .describe(
        "Publish the status (birth, goodbye, Last Will) and stats retained. Turn off for a broker without retained messages that closes the connection on one (Azure Event Grid's MQTT broker before it had them); an MQTT 5 broker that says so (CONNACK Retain Available 0, or refusing the connection with 0x9A) is followed without it.",
      ),
    max_packet_size: byteSizeSchema
      .optional()
      .describe(
        "Largest MQTT packet the broker takes (Mosquitto: max_packet_size; AWS IoT Core: 128KB). A record whose packet would be larger stays in the outbox, unsent (counted as tooLarge), instead of closing the connection and stopping the uplink. An MQTT 5 broker's announced limit applies without it (the smaller one wins); without either, a record the broker closes the connection on is found by sending one at a time (see docs/upstream.md).",
      ),
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
    batch: z
      .strictObject({
        max_records: z.number().int().min(1).max(10_000).default(100).describe('Records in one publish at most.'),
        max_bytes: byteSizeSchema
          .default(64 * 1024)
          .describe('Bytes of the batch JSON (before compression) at most; a single record larger than this goes alone.'),
        max_delay: durationSchema
          .default(1000)
          .describe('A record waits at most this long for others to share its publish (measured from the first record of the batch).'),
        compression: z
          .enum(COMPRESSIONS)
          .default('gzip')
          .describe('none, gzip, deflate (zlib) or brotli (node:zlib; zstd needs Node 22). The topic says which: <prefix>/<gateway>/batch[/<compression>].'),
      })
      .optional()
      .describe(
        'Compact uplinks (off when absent): several records in one publish on <prefix>/<gateway>/batch/<compression>, each with its own id and seq; acknowledged to the outbox only when the PUBACK of its batch arrives. Consumers must read batches: see docs/upstream.md.',
      ),
    ack_timeout: durationSchema
      .default(60_000)
      .describe(
        'A connection on which publishes await their PUBACK and none has come for this long is ended and made again (everything unacknowledged is sent again): a broker that answers keepalive pings but has stopped acknowledging (a stuck persistence or bridge) would otherwise hold the in-flight window for ever. 0 = off.',
      ),
    stop_timeout: durationSchema.default(2000).describe('On shutdown, wait this long for in-flight acknowledgements.'),
  })
  .describe('The upstream MQTT broker that aggregates and alerts are forwarded to.');

export type UpstreamConfig = z.output<typeof upstreamConfigSchema>;
