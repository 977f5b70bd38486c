const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
export const DURATION_RE = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/;

/** Parse `500ms`, `10s`, `1.5m`, `2h`, `1d` (or a bare number of milliseconds) into milliseconds. */
export function parseDuration(text: string | number): number {
  if (typeof text === 'number') {
    if (!Number.isFinite(text) || text < 0) throw new Error(`expected a duration >= 0, found ${text}`);
    return text;
  }
  const m = DURATION_RE.exec(text);
  const unit = m ? UNITS[m[2] ?? ''] : undefined;
  if (!m || unit === undefined) throw new Error(`expected a duration such as 500ms, 10s, 5m, 1h or 1d, found "${text}"`);
  return Math.round(Number(m[1]) * unit);
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2, gb: 1024 ** 3, gib: 1024 ** 3 };
export const SIZE_RE = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)\s*$/i;

/** Parse `64MB`, `512KiB`, `1GB` (binary units) or a bare number of bytes. */
export function parseByteSize(text: string | number): number {
  if (typeof text === 'number') return text;
  const m = SIZE_RE.exec(text);
  const unit = m ? SIZE_UNITS[(m[2] ?? '').toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`expected a size such as 512KB, 64MB or 1GB, found "${text}"`);
  return Math.round(Number(m[1]) * unit);
}
