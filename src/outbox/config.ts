import { z } from 'zod';
import { byteSizeSchema, durationSchema } from '../core/units.js';

/**
 * The store-and-forward outbox (SQLite). Every upstream message is written here first and
 * deleted only when the upstream broker acknowledges it (QoS 1 PUBACK). See docs/outbox.md.
 */
export const outboxConfigSchema = z
  .strictObject({
    path: z.string().min(1).default('outbox.db').describe('SQLite file, relative to gateway.data_dir.'),
    max_bytes: byteSizeSchema
      .default(64 * 1024 * 1024)
      .describe(
        'Upper bound on buffered message bytes (payload + ~32 bytes per row). When full, the lowest priority is dropped first (raw < aggregate < alert), oldest first. The file on disk is larger by index and page overhead (see docs/outbox.md).',
      ),
    max_age: durationSchema
      .default(7 * 86_400_000)
      .describe('Messages older than this are dropped (counted as max_age), whatever their priority. 0 disables the age bound.'),
    max_message_bytes: byteSizeSchema
      .default(256 * 1024)
      .describe('A single payload larger than this is refused (counted as too_large).'),
    memory_bytes: byteSizeSchema
      .default(8 * 1024 * 1024)
      .describe(
        'While the disk is full, new messages are held in memory up to this many bytes (forwarded all the same when the uplink is up) and written to the file when space returns; beyond it, raw is dropped first (counted as disk_full).',
      ),
    commit_max_messages: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(1000)
      .describe('Group commit: a batch is committed when it holds this many messages...'),
    commit_interval: durationSchema
      .default(100)
      .describe('...or when its first message has waited this long. One commit per batch, so a burst costs one write.'),
    alert_commit_delay: durationSchema
      .default(1)
      .describe(
        'Alerts first: an alert (raised, cleared) is committed in a small commit of its own (with the ingest journal) and handed upstream as soon as the work under way is done, without waiting for commit_interval; at most one such commit per this delay, so the alerts of a storm share commits. 0: alerts wait for the group commit like everything else.',
      ),
    aggregate_commit_delay: durationSchema
      .default(20)
      .describe(
        'A burst of window results (50 pending: a window boundary closing on many streams) is committed and handed upstream this long later, without waiting for commit_interval; the results put meanwhile share that commit, and the tail of the burst (results put within this delay of its last early commit) gets one too, for at most commit_interval from its start. Results that come a few at a time keep the group commit (fewer writes to flash). 0, or not below commit_interval: they always wait for the group commit.',
      ),
    durability: z
      .enum(['normal', 'full'])
      .default('normal')
      .describe(
        'normal: WAL with synchronous=NORMAL; survives a process crash, but a power cut may lose the last commits (never corrupts). full: synchronous=FULL, every commit is fsynced; survives power loss, costs one fsync per batch.',
      ),
    wal_checkpoint: z
      .enum(['background', 'inline'])
      .default('background')
      .describe(
        "background: SQLite's WAL checkpoints (copying the log into the file, with fsync) run in a worker thread every second, never on the gateway's event loop (inline they held it 30-70 ms about once a second at 5,000 journaled readings/s); costs ~10 MB of memory. inline: SQLite's own automatic checkpoint, inside a commit.",
      ),
    forward_late: z
      .boolean()
      .default(false)
      .describe('Send late readings (the late side output) upstream as kind "late". Off by default: they are counted as late_skipped.'),
    check_on_open: z
      .enum(['quick', 'none'])
      .default('quick')
      .describe('quick: run PRAGMA quick_check when opening; a corrupt file is moved aside and a new one started. none: skip the check (faster start on a huge file).'),
  })
  .describe('The store-and-forward outbox (SQLite): what is buffered while the upstream link is down.');

export type OutboxConfig = z.output<typeof outboxConfigSchema>;
