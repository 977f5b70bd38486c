import { z } from 'zod';
import { durationSchema } from '../core/units.js';
import { STATE_DEFAULTS } from './defaults.js';

/**
 * Crash-safe state: checkpoints of every pipeline and the ingest journal, both in the outbox's
 * SQLite database (a gateway without `outbox` keeps no state across restarts). See docs/state.md.
 */
export const stateConfigSchema = z
  .strictObject({
    durability: z
      .enum(['journal', 'off'])
      .default(STATE_DEFAULTS.durability)
      .describe(
        'journal: every accepted reading is written to the ingest journal before it is acknowledged (a QoS 1 PUBACK from the embedded broker waits for it); after a crash the last checkpoint is restored and the journal replayed, so nothing acknowledged is lost. off: readings are acknowledged on receipt and not journaled; a crash loses the readings since the last checkpoint (open windows go back to it).',
      ),
    journal_max_wait: durationSchema
      .default(STATE_DEFAULTS.journal_max_wait)
      .describe('Group commit of the journal: readings that are waited for (a QoS 1 PUBACK) wait at most this long to be made durable (and acknowledged). Longer waits mean fewer, larger commits.'),
    journal_unacked_wait: durationSchema
      .default(STATE_DEFAULTS.journal_unacked_wait)
      .describe(
        'Group commit of the journal for entries nobody waits for (QoS 0 publishes, serial and GPIO readings, clock ticks): made durable at most this long after they arrive (sooner with any commit). A power cut or SIGKILL can lose the unacknowledged readings of this last span. Longer: fewer commits, fewer writes to flash.',
      ),
    checkpoint_interval: durationSchema
      .default(STATE_DEFAULTS.checkpoint_interval)
      .describe('How often the state of every pipeline is saved (with the outbox commit it belongs to) and the journal trimmed, once checkpoint_min_entries have been journaled since the last one. Shorter: faster restarts, more writes.'),
    checkpoint_min_entries: z
      .number()
      .int()
      .min(0)
      .default(STATE_DEFAULTS.checkpoint_min_entries)
      .describe(
        'A periodic checkpoint waits until the journal holds at least this many entries (readings and clock ticks) after the last one: a restart replays at most about this many plus checkpoint_interval of input, and a slow gateway does not rewrite its whole state every interval. 0: every checkpoint_interval, whatever came in.',
      ),
  })
  .describe('Checkpoints and the ingest journal (crash-safe state; see docs/state.md).');

export type StateConfig = z.output<typeof stateConfigSchema>;
