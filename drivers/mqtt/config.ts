import type { z } from 'zod';
import type { SchemaKit } from '../../src/core/plugin.js';
import { NAME_RE } from '../common/names.js';
import { tsZoneSchema } from '../common/ts-zone.js';
import { valuesPathSchema } from '../common/values-path.js';
import { DEVICE_TIME_UNITS } from '../../src/core/time.js';
import { templateError } from './topic.js';
import { parseHash } from './password.js';

/** Settings of one `mqtt` input (without `type`, `name`, `enabled`), and its broker and client parts. */
export function mqttSchemas({ z, durationSchema, byteSizeSchema }: SchemaKit) {
  const filterSchema = z
    .string()
    .min(1)
    .refine((f) => !/[^/]#|#./.test(f) && !/[^/]\+|\+[^/]/.test(f), { message: 'not an MQTT topic filter ("+" and "#" must be whole levels, "#" last)' });

  const templateSchema = z.string().superRefine((t, ctx) => {
    const e = templateError(t);
    if (e) ctx.addIssue({ code: 'custom', message: `topic template "${t}": ${e}` });
  });

  const aclFields = {
    publish: z
      .array(filterSchema)
      .default(['#'])
      .describe('Topic filters this client may publish to (+ and # wildcards; %u = username, %c = client id). A publish elsewhere disconnects the client.'),
    subscribe: z
      .array(filterSchema)
      .default(['#'])
      .describe('Topic filters this client may subscribe within; other subscriptions get SUBACK 128 (refused).'),
  };

  const brokerConfigSchema = z
    .strictObject({
      host: z.string().default('127.0.0.1').describe('Bind address. Keep 127.0.0.1 unless devices on the LAN must connect (then use 0.0.0.0 with users).'),
      port: z.number().int().min(0).max(65535).default(1883).describe('TCP port (0 picks a free port).'),
      max_packet_size: byteSizeSchema.default(256 * 1024).describe('Largest MQTT packet accepted; a client announcing a bigger one is disconnected and counted (`oversized`).'),
      no_delay: z.boolean().default(true).describe('TCP_NODELAY on client sockets (lower latency for small messages).'),
      allow_anonymous: z
        .boolean()
        .optional()
        .describe('Allow clients without a username. Unset: allowed only when bound to loopback and no users are configured.'),
      users: z
        .array(
          z.strictObject({
            username: z
              .string()
              .min(1)
              // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is refused on purpose (not allowed in MQTT topics)
            .refine((u) => !/[+#/\u0000]|^\$/.test(u), { message: 'a username may not contain + # / or NUL nor start with $ (it fills %u in ACLs as one topic level)' })
              .describe('MQTT username (no + # / NUL, no leading $).'),
            password_hash: z
              .string()
              .superRefine((h, ctx) => {
                const e = parseHash(h);
                if (typeof e === 'string') ctx.addIssue({ code: 'custom', message: `password_hash: ${e}` });
              })
              .describe('scrypt hash of the password, from `edgewise hash-password`: scrypt$N$r$p$salt$hash.'),
            ...aclFields,
          }),
        )
        .default([])
        .describe('Users allowed to connect, each with a hashed password and topic ACLs.'),
      anonymous: z.strictObject(aclFields).prefault({}).describe('Topic ACLs for anonymous clients (when they are allowed).'),
      max_clients: z
        .number()
        .int()
        .positive()
        .default(1000)
        .describe('Most clients connected or logging in; more get CONNACK 3 "server unavailable" at once and are counted (`clients_refused`).'),
      max_pending_connections: z
        .number()
        .int()
        .positive()
        .default(512)
        .describe('Most connections that have not sent CONNECT yet; a new one beyond closes the oldest (`preconnect_evicted`).'),
      max_pending_per_address: z
        .number()
        .int()
        .positive()
        .default(64)
        .describe('Most connections without CONNECT from one address; more are closed at once (`preconnect_refused`).'),
      login_failures_per_address: z
        .number()
        .int()
        .positive()
        .default(5)
        .describe('Failed password checks from one address before it backs off (1 s, doubling to 60 s; refused logins meanwhile get CONNACK 3 and count as `auth_throttled`).'),
      login_queue: z
        .number()
        .int()
        .nonnegative()
        .default(16)
        .describe('Logins waiting for a password check (checks run one at a time, off the event loop); more are refused at once (`auth_throttled`).'),
      max_retained_bytes: byteSizeSchema
        .default(1024 * 1024)
        .describe('Memory for retained messages (topic + payload); a retained publish beyond is delivered but not retained (`retain_refused`).'),
      max_queued_messages: z
        .number()
        .int()
        .positive()
        .default(1000)
        .describe('Messages (QoS 1/2) queued for one client with a persistent session while it is away or until it acknowledges them, as Mosquitto\'s `max_queued_messages`; more are not queued for it (`queue_dropped`, logged). Without a bound a subscriber that went away for good made the gateway keep every matching message until it ran out of memory.'),
      max_queued_bytes: byteSizeSchema
        .default(16 * 1024 * 1024)
        .describe('Memory (topic + payload) for the queues of all clients with a persistent session together; a message beyond is not queued (`queue_dropped`, logged). Many sessions abandoned (a new client id at every boot) fill it instead of the gateway\'s memory.'),
      session_expiry: z
        .union([z.literal('never'), durationSchema])
        .default(7 * 86_400_000)
        .describe('How long a client with a persistent session (clean session off) may stay away before its session ends: its subscriptions and what is queued for it are discarded (`sessions_expired`, logged), and it comes back to a new session (CONNACK session present 0). As Mosquitto\'s `persistent_client_expiration` and MQTT 5\'s session expiry; `never` keeps sessions until the gateway restarts (the embedded broker keeps them in memory). Without it a client id used once (a new one at every boot) kept its subscriptions and a share of `max_queued_bytes` for good.'),
      connect_timeout: durationSchema.default(30_000).describe('How long a new connection may take to send CONNECT.'),
      drain_timeout: durationSchema.default(30_000).describe('How long to wait for a slow subscriber before disconnecting it.'),
    })
    .describe('The embedded MQTT broker (aedes) local devices publish to (mode: embedded).');

  const clientConfigSchema = z
    .strictObject({
      url: z.string().regex(/^(mqtts?|wss?|tcp|tls):\/\//, 'expected mqtt://host:port or mqtts://host:port').describe('Broker URL, e.g. mqtt://127.0.0.1:1883 or mqtts://broker.local:8883.'),
      username: z.string().optional().describe('Username, if the broker asks for one.'),
      password: z.string().optional().describe('Password (prefer password_env).'),
      password_env: z.string().optional().describe('Name of an environment variable holding the password.'),
      client_id: z.string().optional().describe('Client id; default edgewise-<input name>-<random>.'),
      qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(0).describe('Subscription QoS.'),
      ca_file: z.string().optional().describe('PEM file of the CA that signed the broker certificate (TLS).'),
      cert_file: z.string().optional().describe('PEM client certificate (mutual TLS).'),
      key_file: z.string().optional().describe('PEM client key (mutual TLS).'),
      reject_unauthorized: z.boolean().default(true).describe('Refuse brokers whose certificate does not verify. Only turn off for testing.'),
      keepalive: durationSchema.default(30_000).describe('MQTT keepalive.'),
      reconnect_period: durationSchema.default(2_000).describe('Wait between reconnect attempts.'),
      persistent_session: z
        .boolean()
        .default(false)
        .describe('Keep the session at the broker (clean session off): with qos 1 or 2 the broker queues what devices publish while the gateway is down or restarting and delivers it on reconnect, instead of losing it. Needs a fixed client_id (the broker keys the session by it); the broker bounds the queue (Mosquitto: max_queued_messages, 1000 by default).'),
      retained: z
        .enum(['skip', 'take'])
        .default('skip')
        .describe('Retained messages the broker replays at every (re)subscription: skip (counted as retained_skipped) so a device that went silent hours ago does not report its last value again at each reconnect (stamped with the gateway clock when it carries no time); take: ingest them as readings.'),
    })
    .refine((c) => !c.persistent_session || c.client_id !== undefined, { message: 'persistent_session needs a fixed client_id: the broker keeps the session under it (a random id would start a new session at every start)', path: ['client_id'] })
    .describe('An existing broker (e.g. Mosquitto) to subscribe to (mode: client).');

  const mqttConfigSchema = z.strictObject({
    mode: z.enum(['embedded', 'client']).default('embedded').describe('embedded: run the built-in broker devices publish to; client: subscribe to an existing broker.'),
    topics: z
      .array(templateSchema)
      .min(1)
      .default(['sensors/{device}/{metric}'])
      .describe('Topic templates mapping topics to streams: {device} and {metric} fill whole levels; + and a final # match anything. First match wins.'),
    device: z.string().regex(NAME_RE).optional().describe('Device name for templates without {device}.'),
    metric: z
      .string()
      .regex(NAME_RE)
      .optional()
      .describe('Metric name for templates without {metric} (bare numbers and {"value": ...} payloads); several-field payloads then use the field names.'),
    ignore_topics: z.array(filterSchema).default([]).describe('Topic filters that are not sensor data (commands, status): skipped without counting them as unknown.'),
    ts_keys: z.array(z.string()).default(['ts', 'time', 'timestamp']).describe('JSON keys holding the timestamp (first found wins). Without one, the gateway clock stamps the reading.'),
    ts_unit: z.enum(DEVICE_TIME_UNITS).default('ms').describe('Unit of numeric timestamps: ms, s, us or ns (InfluxDB line protocol and Telegraf send ns). ISO 8601 strings are always accepted; no zone means UTC (or ts_zone).'),
    ts_zone: tsZoneSchema(z),
    max_payload_bytes: byteSizeSchema.default(16 * 1024).describe('Largest payload parsed; bigger ones are dropped (`oversized`).'),
    max_fields: z.number().int().positive().default(64).describe('Most readings taken from one several-field payload (`too_many_fields` beyond).'),
    values_path: valuesPathSchema(z),
    ignore_fields: z
      .array(z.string())
      .default([])
      .describe('Fields of several-field payloads that are not readings, by flattened name (nested objects join with _): e.g. [id, aenergy_minute_ts] for a Shelly; a nested object\'s name skips all of it.'),
    topic_cache_size: z.number().int().positive().default(10_000).describe('Topics whose mapping is remembered (the cache is cleared when full).'),
    topic_cache_bytes: byteSizeSchema
      .default(1024 * 1024)
      .describe('Memory for the topic cache (cleared when full); a topic longer than a sixteenth of it is never cached.'),
    broker: brokerConfigSchema.prefault({}),
    client: clientConfigSchema.optional(),
    sparkplug: z
      .strictObject({
        groups: z
          .array(z.string().min(1).refine((g) => g === '+' || !/[/+#]/.test(g), { message: 'a Sparkplug group id has no / + #; "+" alone takes every group' }))
          .min(1)
          .default(['+'])
          .describe('Sparkplug group ids taken ("+": every group). In client mode the input subscribes to spBv1.0/<group>/+/+/#.'),
        group_in_name: z.boolean().default(false).describe('Put the group id in front of the device name (<group>.<node>[.<device>]): when two groups have edge nodes of the same name.'),
        host_id: z
          .string()
          .min(1)
          .refine((h) => !/[/+#]/.test(h), { message: 'a Sparkplug host id has no / + #' })
          .optional()
          .describe('Act as the primary host application of this id: publish spBv1.0/STATE/<host_id> {"online": true} retained at every connect, and {"online": false} as the will and at a clean stop (Sparkplug 3.0). Edge nodes configured with this primary host (Ignition MQTT Transmission, for one) publish only while it is online.'),
        rebirth: z
          .boolean()
          .default(true)
          .describe('Ask an edge node for a rebirth (NCMD Node Control/Rebirth, at most once per 10 s per node) when its data refers to metric aliases whose names the gateway was never told (it started after the node\'s birth).'),
      })
      .optional()
      .describe('Sparkplug B: topics under spBv1.0/ are decoded as Sparkplug B payloads (births, data by name or alias) instead of by the topic templates.'),
  });

  return { broker: brokerConfigSchema, client: clientConfigSchema, config: mqttConfigSchema };
}

export const mqttConfigSchema = (k: SchemaKit) => mqttSchemas(k).config;

type MqttSchemas = ReturnType<typeof mqttSchemas>;
export type MqttConfig = z.output<MqttSchemas['config']>;
export type BrokerConfig = z.output<MqttSchemas['broker']>;

