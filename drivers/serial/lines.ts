/**
 * Splits a byte stream into lines (`\n`, trailing `\r`s are removed) with a bound: a line longer
 * than `maxBytes` is reported once (`onTooLong`) and its bytes are discarded up to the next
 * newline, so memory stays at `maxBytes` whatever the device sends. (The readline parser that
 * ships with serialport buffers without a limit, hence this small splitter.)
 */
export class LineSplitter {
  private readonly buf: Buffer;
  private len = 0;
  private discarding = false;

  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (line: string, raw: Buffer) => void,
    private readonly onTooLong: (head: string, bytesSoFar: number) => void,
  ) {
    this.buf = Buffer.allocUnsafe(maxBytes);
  }

  push(chunk: Buffer): void {
    let start = 0;
    const n = chunk.length;
    while (start < n) {
      const nl = chunk.indexOf(10, start);
      const end = nl < 0 ? n : nl;
      const piece = end - start;
      if (!this.discarding) {
        if (this.len + piece > this.maxBytes) {
          const headLen = Math.min(64, this.len);
          const head = this.buf.toString('utf8', 0, headLen) + chunk.toString('utf8', start, start + Math.min(piece, 64 - headLen));
          this.onTooLong(head, this.len + piece);
          this.discarding = true;
          this.len = 0;
        } else {
          chunk.copy(this.buf, this.len, start, end);
          this.len += piece;
        }
      }
      if (nl < 0) break;
      if (this.discarding) this.discarding = false;
      else {
        let l = this.len;
        while (l > 0 && this.buf[l - 1] === 13) l--; // \r\n, and \r\r\n (some modems' GPS ports)
        const raw = this.buf.subarray(0, l);
        this.onLine(raw.toString('utf8'), raw);
      }
      this.len = 0;
      start = nl + 1;
    }
  }

  /** Forget a partial line (the port was reopened). */
  reset(): void {
    this.len = 0;
    this.discarding = false;
  }
}

/** Control bytes (other than tab) or invalid UTF-8: noise on the line, a wrong baud rate. */
export function isGarbled(raw: Buffer, text: string): boolean {
  for (const b of raw) {
    if (b < 32 && b !== 9) return true;
    if (b === 127) return true;
  }
  return text.includes('\uFFFD');
}
