/** What a better-sqlite3 (or file system) error means for the outbox. */

const CORRUPT_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_CORRUPT_VTAB', 'SQLITE_CORRUPT_SEQUENCE', 'SQLITE_CORRUPT_INDEX']);

const codeOf = (e: unknown): string => (e as { code?: string } | null)?.code ?? '';

/** No space left: SQLITE_FULL, a failed write or -shm mapping, ENOSPC. */
export function isDiskFull(e: unknown): boolean {
  const c = codeOf(e);
  return c === 'SQLITE_FULL' || c.startsWith('SQLITE_IOERR_WRITE') || c.startsWith('SQLITE_IOERR_SHM') || c === 'ENOSPC' || /disk is full|database or disk is full/i.test(String((e as Error).message));
}

/** The file is damaged or not a database. */
export function isCorrupt(e: unknown): boolean {
  return CORRUPT_CODES.has(codeOf(e));
}
