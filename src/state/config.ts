import { z } from 'zod';
import { durationSchema } from '../core/units.js';

/**
 * Crash-safe state: checkpoints of every pipeline and the ingest journal, both in the outbox's
 * SQLite database (a gateway without `outbox` keeps no state across restarts). See docs/state.md.
 */
export const STATE_DEFAULTS = { durability: 'journal', journal_max_wait: 5, checkpoint_interval: 10_000 } as const;

export const stateConfigSchema = z
  .strictObject({
    durability: z
      .enum(['journal', 'off'])
      .default('journal')
      .describe(
        'journal: every accepted reading is written to the ingest journal before it is acknowledged (a QoS 1 PUBACK from the embedded broker waits for it); after a crash the last checkpoint is restored and the journal replayed, so nothing acknowledged is lost. off: readings are acknowledged on receipt and not journaled; a crash loses the readings since the last checkpoint (open windows go back to it).',
      ),
    journal_max_wait: durationSchema
      .default(5)
      .describe('Group commit of the journal: readings wait at most this long to be made durable (and acknowledged). Longer waits mean fewer, larger commits.'),
    checkpoint_interval: durationSchema
      .default(10_000)
      .describe('How often the state of every pipeline is saved (with the outbox commit it belongs to) and the journal trimmed. Shorter: faster restarts, more writes.'),
  })
  .describe('Checkpoints and the ingest journal (crash-safe state; see docs/state.md).');

export type StateConfig = z.output<typeof stateConfigSchema>;
