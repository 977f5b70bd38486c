import { closeSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';

/** Smallest and largest reserve file; between them a 32nd of the file system. */
const MIN_BYTES = 64 * 1024;
const MAX_BYTES = 4 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024);

/**
 * A file of zeros next to the outbox that holds room on its file system (an "emergency ballast",
 * as CockroachDB keeps one). Whatever fills the disk (the outbox's own backlog, the ingest journal,
 * SQLite's WAL, or another program's logs), every SQLite write needs a little room, deleting
 * acknowledged messages and truncating the WAL included: without it a full disk stays full. When
 * a write fails for lack of space the file is deleted, so those can run; it is made again once
 * the space allows. Its bytes count as used while it is released (see DiskSpace), so that new
 * messages do not take them.
 */
export class SpaceReserve {
  readonly path: string;
  private present = false;
  private size = 0;

  constructor(dbFile: string) {
    this.path = `${dbFile}-reserve`;
    try {
      this.size = statSync(this.path).size;
      this.present = this.size > 0;
    } catch {
      // not made yet
    }
  }

  /** Bytes it holds for a file system of `fsSize` bytes. */
  static bytesFor(fsSize: number): number {
    return Math.min(MAX_BYTES, Math.max(MIN_BYTES, Math.floor(fsSize / 32 / 4096) * 4096));
  }

  get held(): boolean {
    return this.present;
  }

  /** Make it (`bytes` of zeros, written so the file system allocates them). False when it could not be written: what was written goes again. */
  make(bytes: number): boolean {
    if (this.present) return true;
    let fd: number | undefined;
    try {
      fd = openSync(this.path, 'w');
      for (let done = 0; done < bytes; ) done += writeSync(fd, CHUNK, 0, Math.min(CHUNK.length, bytes - done));
      const f = fd;
      fd = undefined;
      closeSync(f);
      this.present = true;
      this.size = bytes;
      return true;
    } catch {
      if (fd !== undefined) closeSync(fd);
      this.delete();
      return false;
    }
  }

  /** Delete it: the room it held is free for deletes and the WAL. Bytes freed (0 when it was not there). */
  release(): number {
    if (!this.present) return 0;
    this.present = false;
    this.delete();
    return this.size;
  }

  private delete(): void {
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}
