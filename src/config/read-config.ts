/**
 * Reading a config file without trusting it: only a regular file (a device such as /dev/zero or
 * a FIFO would never end), at most MAX_CONFIG_BYTES (checked on the open file, before reading).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** Largest config or pipeline file read (a real one is a few KB). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** The file's text, or why it cannot be read (a sentence without the file name). */
export function readConfigFile(file: string): { text: string } | { error: string } {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    return { error: `cannot read: ${why(err)}` };
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) return { error: 'cannot read: is a folder, not a file' };
    if (!st.isFile()) return { error: 'cannot read: not a regular file (a device, FIFO or socket); give the path of a YAML file' };
    if (st.size > MAX_CONFIG_BYTES) return { error: `${st.size} bytes is larger than 1 MiB, the most a config file may hold; is this the right file?` };
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return { text: buf.subarray(0, got).toString('utf8') };
  } catch (err) {
    return { error: `cannot read: ${why(err)}` };
  } finally {
    closeSync(fd);
  }
}

function why(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a folder, not a file';
  if (code === 'EACCES') return 'permission denied';
  return (err as Error).message;
}
