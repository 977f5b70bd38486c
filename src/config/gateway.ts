import { z } from 'zod';
import { httpConfigSchema, reloadSchema, statsLogSchema, statsUpstreamSchema } from './http.js';
import { outboxConfigSchema } from '../outbox/config.js';
import { upstreamConfigSchema } from '../upstream/config.js';
import { stateConfigSchema } from '../state/config.js';
import { STATE_DEFAULTS } from '../state/defaults.js';
import type { PluginSet } from '../plugin-set.js';
import { builtinPlugins } from '../plugins.js';
import { schemaKit } from './schema-kit.js';

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** `inputs[]`: one branch per driver plugin, discriminated by `type`. */
function inputSchema(plugins: PluginSet) {
  const branches = plugins.drivers().map((f) =>
    f.schema(schemaKit)
      .extend({
        type: z.literal(f.kind),
        name: z.string().regex(ID_RE, 'expected a name of letters, digits, _ . - (max 64)').describe('Instance name, unique in the gateway.'),
        enabled: z.boolean().default(true).describe('Set false to keep the input in the file but not start it.'),
      })
      .strict()
      .describe(f.description),
  );
  const [first, second, ...rest] = branches;
  if (!first) return z.strictObject({ type: z.string(), name: z.string() }).describe('No driver kinds are in this build.');
  if (!second) return first;
  return z.discriminatedUnion('type', [first, second, ...rest]);
}

/** The gateway config schema (`edgewise.yaml`); `inputs[]` comes from the driver plugins. */
export function gatewayConfigSchema(plugins: PluginSet = builtinPlugins) {
  return z
    .strictObject({
      gateway: z
        .strictObject({
          id: z.string().regex(ID_RE, 'expected an id of letters, digits, _ . - (max 64)').describe('Gateway id: in client ids, topics and payloads.'),
          data_dir: z.string().default('.edgewise').describe('Folder for the outbox and other state, relative to the config file.'),
          clock_from_devices: z
            .boolean()
            .default(true)
            .describe('When at least 3 devices agree with each other and not with the gateway clock (a Raspberry Pi without a real-time clock, before NTP), judge arrivals by their consensus instead of refusing every reading as too far in the future.'),
        })
        .describe('Who this gateway is.'),
      log: z
        .strictObject({
          level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info').describe('Lowest level logged.'),
          format: z.enum(['auto', 'json', 'pretty']).default('auto').describe('auto: pretty on a terminal, JSON lines otherwise.'),
        })
        .default({ level: 'info', format: 'auto' })
        .describe('Structured logs on stderr.'),
      inputs: z.array(inputSchema(plugins)).default([]).describe('Sensor inputs (drivers).'),
      pipelines: z
        .array(z.string())
        .default([])
        .describe('Pipeline files (YAML), relative to the config file; globs such as pipelines/*.yaml are allowed.'),
      outbox: outboxConfigSchema.optional(),
      upstream: upstreamConfigSchema.optional(),
      // Operations (docs/operations.md): HTTP server, stats log, stats upstream.
      http: httpConfigSchema.optional(),
      stats_log: statsLogSchema,
      stats_upstream: statsUpstreamSchema,
      reload: reloadSchema,
      state: stateConfigSchema.default({ ...STATE_DEFAULTS }),
    })
    .describe('An Edgewise gateway: its id, inputs, pipelines, outbox and upstream.')
    // Upstream messages always go through the outbox: an `upstream` without `outbox` gets the defaults.
    .transform((c) => (c.upstream && !c.outbox ? { ...c, outbox: outboxConfigSchema.parse({}) } : c));
}

export type GatewayConfig = z.output<ReturnType<typeof gatewayConfigSchema>>;
