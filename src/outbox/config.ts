import { z } from 'zod';

// Owned by the outbox work (issue 4): extend this schema; the gateway config picks it up.
export const outboxConfigSchema = z
  .strictObject({
    path: z.string().default('outbox.db').describe('SQLite file, relative to gateway.data_dir.'),
  })
  .describe('The store-and-forward outbox (SQLite).');

export type OutboxConfig = z.output<typeof outboxConfigSchema>;
