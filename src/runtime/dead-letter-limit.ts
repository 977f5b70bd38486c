/**
 * Dead letters are samples: every drop is counted (DropCounter), but a flood of bad input must not
 * turn into one SQLite transaction per drop (~10-20 µs of CPU and a WAL page written each, measured
 * in docs/operations.md). Allows at most `perSecond` rows per source in each wall-clock second.
 */
export function deadLetterLimiter(perSecond: number, now: () => number): (source: string) => boolean {
  const seen = new Map<string, { second: number; n: number }>();
  return (source) => {
    const second = Math.floor(now() / 1000);
    let s = seen.get(source);
    if (!s) seen.set(source, (s = { second, n: 0 }));
    if (s.second !== second) {
      s.second = second;
      s.n = 0;
    }
    return ++s.n <= perSecond;
  };
}
