import { z } from 'zod';

// Owned by the upstream work (issue 4): extend this schema; the gateway config picks it up.
export const upstreamConfigSchema = z
  .strictObject({
    url: z.string().describe('Broker URL, e.g. mqtt://broker.local:1883 or mqtts://host:8883.'),
  })
  .describe('The upstream MQTT broker that aggregates and alerts are forwarded to.');

export type UpstreamConfig = z.output<typeof upstreamConfigSchema>;
