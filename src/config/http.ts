/**
 * The HTTP server's settings, and the runtime's reload and stats settings. They live here, not in
 * src/http: the server presents the runtime (it imports its stats and reports), so a schema there
 * would make src/config → src/http → src/runtime → src/config a cycle.
 */
import { z } from 'zod';
import { durationSchema } from '../core/units.js';

/** The gateway's HTTP server: metrics, health, the live dashboard and the status API. See docs/operations.md. */
export const httpConfigSchema = z
  .strictObject({
    host: z
      .string()
      .min(1)
      .default('127.0.0.1')
      .describe('Address to listen on. 127.0.0.1 keeps it on the gateway; 0.0.0.0 opens it to the network (set a token).'),
    port: z.number().int().min(0).max(65_535).default(9464).describe('TCP port (0: any free port, logged at start).'),
    token: z
      .string()
      .min(16, 'a token needs at least 16 characters')
      .optional()
      .describe('Bearer token every request but /healthz must carry (Authorization: Bearer <token>, or ?token= for the dashboard).'),
    dashboard: z.boolean().default(true).describe('Serve the live dashboard at / (and its event stream at /api/events).'),
    metrics: z
      .strictObject({
        per_stream: z
          .boolean()
          .default(false)
          .describe('Add a `stream` label to the detector score histogram: one series per stream (mind the cardinality).'),
      })
      .default({ per_stream: false })
      .describe('Prometheus metrics at /metrics.'),
  })
  .describe('HTTP server for Prometheus metrics (/metrics), health (/healthz, /readyz), the live dashboard (/) and `edgewise status`.');


/** How often the one-line stats log is written (0: never). */
export const statsLogSchema = durationSchema.default(60_000).describe('Write a one-line stats log this often (readings/s, drops by reason, alerts, outbox, uplink); 0 turns it off.');

/** How often the retained `<topic_prefix>/<gateway>/stats` message is published upstream (0: never). */
export const statsUpstreamSchema = durationSchema
  .default(60_000)
  .describe('Publish gateway health as a retained <topic_prefix>/<gateway>/stats message this often while the uplink is up (docs/upstream.md); 0 turns it off.');

/** Hot reload (docs/operations.md#reload): SIGHUP and POST /reload always work; the file watch is opt-in. */
export const reloadSchema = z
  .strictObject({
    watch: z
      .boolean()
      .default(false)
      .describe('Reload when the config file or a pipeline file changes (or a YAML file appears in a pipelines folder), as SIGHUP does.'),
  })
  .default({ watch: false })
  .describe('Hot reload of the config and pipelines without a restart: SIGHUP, POST /reload, or (watch: true) a file change.');
