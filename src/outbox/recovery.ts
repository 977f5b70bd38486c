import { existsSync, renameSync } from 'node:fs';
import type { Logger } from '../core/log.js';
import { NewerSchemaError } from './migrate.js';
import { isDiskFull } from './sqlite-errors.js';

/** Opens the file: `file` is the outbox's path or ':memory:'. */
export type OpenFile = (file: string, opts: { check: boolean; exclusive?: boolean }) => void;

/**
 * Open the outbox file whatever state it is in: on a full disk in exclusive locking mode (no -shm
 * file needed), else in memory; a corrupt or unreadable file is moved aside (`moveAside`) and a
 * new one created; if that fails too, in memory. A file of a newer schema is not ours to touch.
 */
export function openRecovering(file: string, check: boolean, open: OpenFile, moveAside: (err: unknown) => void, log: Logger): void {
  try {
    try {
      open(file, { check });
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      log.warn({ err, file }, `outbox: disk full opening ${file}; opening it in exclusive locking mode (no -shm file)`);
      open(file, { check, exclusive: true });
    }
  } catch (err) {
    if (err instanceof NewerSchemaError) throw err;
    if (isDiskFull(err)) {
      log.error({ err, file }, `outbox: cannot open ${file}: the disk is full (${(err as Error).message}); buffering in memory only until restart. Free space on the device.`);
      open(':memory:', { check: false });
      return;
    }
    moveAside(err);
    try {
      open(file, { check: false });
    } catch (err2) {
      log.error(
        { err: err2, file },
        `outbox: cannot create ${file} (${(err2 as Error).message}); buffering in memory only until restart — check that the data directory is writable and has space`,
      );
      open(':memory:', { check: false });
    }
  }
}

/**
 * Move a corrupt or unreadable file (and its WAL/SHM) aside as `<name>.corrupt-<timestamp>` and
 * say so at error; returns where it went (undefined if it could not be moved).
 */
export function moveAside(file: string, err: unknown, now: number, log: Logger): { aside: string; moved: boolean } {
  const aside = `${file}.corrupt-${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
  let moved = false;
  try {
    if (existsSync(file)) {
      renameSync(file, aside);
      moved = true;
    }
    for (const sfx of ['-wal', '-shm']) if (existsSync(file + sfx)) renameSync(file + sfx, aside + sfx);
  } catch (e) {
    log.error({ err: e, file }, `outbox: could not move ${file} aside: ${(e as Error).message}`);
  }
  log.error(
    { err, file, movedTo: moved ? aside : undefined, code: (err as { code?: string }).code },
    `outbox: ${file} is corrupt or unreadable (${(err as Error).message}); ${moved ? `moved it to ${aside}` : 'could not move it'} and started a new outbox. Messages buffered in the old file are not sent; inspect or delete the moved file.`,
  );
  return { aside, moved };
}
