import type { WalCheckpointStats } from './wal-checkpointer.js';
import type { Priority } from '../core/records.js';
import type { UpstreamKind } from '../core/payload.js';
import type { ByPriority } from './drops.js';

/** Bytes counted per row on top of its payload (key, ids, timestamps, b-tree cell). */
export const ROW_OVERHEAD = 32;

/** One committed message, as the forwarder reads it. */
export interface OutboxRow {
  /** Local row id: increases with every message (the message id says what the record is: ids.ts). */
  id: number;
  priority: Priority;
  keyId: number;
  seq: number;
  payload: Buffer;
}

/** What a row's sequence key is: one upstream topic. */
export interface OutboxKey {
  id: number;
  kind: UpstreamKind;
  stream: string;
}

/** A key as the outbox keeps it in memory. */
export interface KeyState extends OutboxKey {
  lastSeq: number;
  /** Rows of this key in the database. */
  count: number;
  /** Largest committed row id of this key. */
  tip: number;
  /** When its topic was last put (the outbox's clock, ms): see KeyRegistry.evictIdle. */
  used: number;
}

/** A message put and not committed yet (or held in memory while the disk is full). */
export interface PendingMsg {
  id: number;
  /** The message id (what the record is: see ids.ts). */
  msgId: string;
  priority: Priority;
  key: KeyState;
  seq: number;
  created: number;
  payload: Buffer;
  /** Already handed to the forwarder (held in memory while the disk was full). */
  announced?: boolean;
}

/** Bytes a message counts for against the bounds. */
export const countedBytes = (m: { payload: Buffer }): number => m.payload.length + ROW_OVERHEAD;

export const rowOf = (m: PendingMsg): OutboxRow => ({ id: m.id, priority: m.priority, keyId: m.key.id, seq: m.seq, payload: m.payload });

/** What a dropped message was, for the log line and samples. */
export const describe = (m: PendingMsg): string => `${m.key.kind} ${m.key.stream} seq=${m.seq}`;

export type CommitListener = (rows: OutboxRow[]) => void;

export interface OutboxStats {
  path: string;
  epoch: string;
  durability: 'normal' | 'full';
  /** Messages buffered (committed, not yet acknowledged), and their counted bytes. */
  depth: { messages: number; bytes: number; byPriority: ByPriority };
  /** Messages waiting in the open batch (not yet committed). */
  pending: number;
  /** Size of the database file plus its WAL, in bytes. */
  fileBytes: number;
  /** WAL checkpoints in the background worker (outbox.wal_checkpoint). */
  walCheckpoints: WalCheckpointStats;
  /** The byte bound in force (lowered after the disk filled up, restored after a full drain). */
  effectiveMaxBytes: number;
  accepted: number;
  committed: number;
  commits: number;
  acked: number;
  /** Late readings not forwarded (forward_late: false). */
  lateSkipped: number;
  dropped: Record<string, number>;
  droppedByPriority: ByPriority;
  /** Drops by reason over the life of this outbox file (saved in it, so they survive a crash and a restart). */
  droppedTotal: Record<string, number>;
  /** Times a corrupt or unreadable file was moved aside. */
  recoveries: number;
  /** Records refused because the outbox holds or has sent their id since the last checkpoint (a replay's copies; not a loss). */
  duplicateIds: number;
  diskFullEvents: number;
  /** True while writes fail for lack of space (fresh messages are then held in memory). */
  diskFull: boolean;
  /** Messages held in memory because the disk is full (forwarded all the same; counted in depth). */
  memory: { messages: number; bytes: number };
  /** Rows acknowledged upstream whose deletion is not committed yet (never sent again). */
  ackedPending: number;
  /** Sequence keys (one per upstream topic) in memory, and those dropped from it idle (read back from the file if their topic returns). */
  keys: { inMemory: number; evicted: number };
  /** Topics whose last message id is kept (for the `#n` ordinals), and those forgotten before 24 h idle because more than 10,000 were kept. */
  ids: { kept: number; forgottenEarly: number };
  /** Age (ms) of the oldest buffered message, 0 when empty. */
  oldestAgeMs: number;
  /** Dead letters kept: rows in the table plus those waiting for the next commit. */
  deadLetters: number;
}
