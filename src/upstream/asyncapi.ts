/**
 * docs/asyncapi.yaml: the upstream contract as an AsyncAPI 3 document, for consumer teams' tools.
 * Built from the same zod payload schemas as docs/schemas/*.schema.json (payload-schema.ts), so it
 * follows every payload change; `npm run schema` writes it and a test fails when it drifts.
 */
import { stringify } from 'yaml';
import { PAYLOAD_SCHEMA_VERSION, type UpstreamKind } from '../core/payload.js';
import { payloadJsonSchemas } from './payload-schema.js';

export const ASYNCAPI_FILE = 'docs/asyncapi.yaml';

const KINDS: { kind: UpstreamKind; what: string }[] = [
  { kind: 'aggregate', what: 'Window results of a pipeline.' },
  { kind: 'alert', what: 'Alert events (raised, active, cleared).' },
  { kind: 'reading', what: 'Raw readings, only when a pipeline sends raw.' },
  { kind: 'late', what: 'Readings later than the allowed lateness, only with `outbox.forward_late: true`.' },
];

const DEDUPE = [
  'Delivery is at least once: a message can arrive twice (after a reconnect or a gateway restart), always with the same `id`.',
  'Drop duplicates by `(gateway, id)` and you get exactly once; treat `id` as an opaque string.',
  '`seq` counts 1, 2, 3, … per (gateway, topic, epoch) with no gaps as produced: a gap means the gateway dropped messages',
  '(counted on the gateway); a new `epoch` restarts at 1. Within a topic messages arrive in `seq` order, except that a resend can repeat earlier ones.',
].join(' ');

const parameters = {
  prefix: { description: '`upstream.topic_prefix` of the gateway.', default: `edgewise/v${PAYLOAD_SCHEMA_VERSION}` },
  gateway: { description: 'Gateway id (`+`, `#` and NUL replaced with `_`).' },
  stream: { description: 'Stream key `<device>/<metric>`; the metric may contain further `/` (`+`, `#` and NUL replaced with `_`).' },
};

/** The schema without its draft marker and id: embedded as an AsyncAPI Schema (the keywords used are common to both). */
function embedded(schema: unknown): Record<string, unknown> {
  const { $schema: _s, $id: _i, ...rest } = schema as Record<string, unknown>;
  return rest;
}

/** The AsyncAPI 3 document as a plain object. */
function asyncApiDocument(): Record<string, unknown> {
  const schemas = payloadJsonSchemas();
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const componentSchemas: Record<string, unknown> = {};
  const qos1 = (retain: boolean) => ({ mqtt: { qos: 1, retain, bindingVersion: '0.2.0' } });
  for (const { kind, what } of KINDS) {
    componentSchemas[kind] = embedded(schemas[kind]);
    messages[kind] = {
      name: kind,
      title: `${kind} message`,
      summary: what,
      contentType: 'application/json',
      payload: { $ref: `#/components/schemas/${kind}` },
    };
    channels[kind] = {
      address: `{prefix}/{gateway}/${kind}/{stream}`,
      title: `${kind} per gateway and stream`,
      description: `${what} QoS 1, not retained.`,
      parameters,
      messages: { [kind]: { $ref: `#/components/messages/${kind}` } },
    };
    operations[`send_${kind}`] = {
      action: 'send',
      title: `A gateway publishes a ${kind}`,
      description: DEDUPE,
      channel: { $ref: `#/channels/${kind}` },
      messages: [{ $ref: `#/channels/${kind}/messages/${kind}` }],
      bindings: qos1(false),
    };
  }
  componentSchemas.status = embedded(schemas.status);
  messages.status = {
    name: 'status',
    title: 'gateway status',
    summary: '`online` after connect (birth); `offline` on clean shutdown or as the Last Will (then without `since`).',
    contentType: 'application/json',
    payload: { $ref: '#/components/schemas/status' },
  };
  channels.status = {
    address: '{prefix}/{gateway}/status',
    title: 'gateway presence',
    description: 'Retained, QoS 1: a consumer subscribing later still sees each gateway\'s last state. Not sent on shared subscriptions (brokers never send retained messages there).',
    parameters: { prefix: parameters.prefix, gateway: parameters.gateway },
    messages: { status: { $ref: '#/components/messages/status' } },
  };
  operations.send_status = {
    action: 'send',
    title: 'A gateway publishes its status',
    channel: { $ref: '#/channels/status' },
    messages: [{ $ref: '#/channels/status/messages/status' }],
    bindings: qos1(true),
  };
  componentSchemas.batch = embedded(schemas.batch);
  const BATCH = [
    'Only from gateways with `upstream.batch` set: several records in one publish, each the payload it would have been alone, in `records`.',
    'A consumer of the one-by-one topics never sees batches; one that reads batches treats every record like a message of its kind.',
  ].join(' ');
  messages.batch = {
    name: 'batch',
    title: 'batch of records',
    summary: BATCH,
    contentType: 'application/json',
    payload: { $ref: '#/components/schemas/batch' },
  };
  messages.batch_compressed = {
    name: 'batch_compressed',
    title: 'compressed batch of records',
    summary: `${BATCH} The payload is the batch document compressed as the topic's last level says (gzip, deflate = zlib RFC 1950, brotli); the schema is that of the document once decompressed.`,
    contentType: 'application/octet-stream',
    payload: { $ref: '#/components/schemas/batch' },
  };
  channels.batch = {
    address: '{prefix}/{gateway}/batch',
    title: 'batches per gateway',
    description: `${BATCH} QoS 1, not retained.`,
    parameters: { prefix: parameters.prefix, gateway: parameters.gateway },
    messages: { batch: { $ref: '#/components/messages/batch' } },
  };
  channels.batch_compressed = {
    address: '{prefix}/{gateway}/batch/{compression}',
    title: 'compressed batches per gateway',
    description: `${BATCH} QoS 1, not retained.`,
    parameters: { prefix: parameters.prefix, gateway: parameters.gateway, compression: { description: '`upstream.batch.compression`.', enum: ['gzip', 'deflate', 'brotli'] } },
    messages: { batch_compressed: { $ref: '#/components/messages/batch_compressed' } },
  };
  for (const name of ['batch', 'batch_compressed']) {
    operations[`send_${name}`] = {
      action: 'send',
      title: `A gateway publishes a ${name.replace('_', ' ')}`,
      description: `${BATCH} ${DEDUPE}`,
      channel: { $ref: `#/channels/${name}` },
      messages: [{ $ref: `#/channels/${name}/messages/${name}` }],
      bindings: qos1(false),
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Edgewise upstream',
      version: String(PAYLOAD_SCHEMA_VERSION),
      description: [
        'What an Edgewise gateway publishes to its MQTT broker (see docs/upstream.md). All messages are QoS 1, UTF-8 JSON (compressed batches: the JSON compressed).',
        '',
        DEDUPE,
        '',
        `Payload schema version ${PAYLOAD_SCHEMA_VERSION}: fields may be added within a version (ignore unknown fields); a breaking change gets a new number and topic prefix.`,
        '',
        'This is the default format (`upstream.format: json`). With `upstream.format: sparkplug_b` a gateway publishes Eclipse Sparkplug B instead (topics `spBv1.0/{group_id}/{NBIRTH|NDEATH|DBIRTH|DDEATH|DDATA}/{edge_node_id}[/{device}]`, protobuf payloads, NCMD `Node Control/Rebirth` answered): that contract is the Sparkplug B 3.0 specification plus the metric names, datatypes and properties in docs/upstream.md, "Sparkplug B"; the dedupe id travels as the `id` property of each record\'s first metric.',
        'Generated from the code by `npm run schema`; do not edit.',
      ].join('\n'),
      license: { name: 'MIT' },
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: { schemas: componentSchemas, messages },
  };
}

export function asyncApiYaml(): string {
  return `# Generated by \`npm run schema\` from src/upstream/payload-schema.ts: do not edit.\n${stringify(asyncApiDocument(), { lineWidth: 0, aliasDuplicateObjects: false })}`;
}
