/** Daily cycles in UTC (simulated sites sit on UTC: keeps runs identical on every machine). */
const DAY = 86_400_000;

/** cos-shaped daily cycle in [-1, 1], peaking at `peakHour` (UTC). */
export function daily(t: number, peakHour: number): number {
  const h = ((t % DAY) + DAY) % DAY / 3_600_000;
  return Math.cos((2 * Math.PI * (h - peakHour)) / 24);
}

/** A production shift pattern in [0, 1]: 1 from 06:00 to 22:00 UTC, 0 at night, with 30-minute ramps. */
export function shift(t: number): number {
  const h = ((t % DAY) + DAY) % DAY / 3_600_000;
  if (h < 5.5 || h >= 22.5) return 0;
  if (h < 6) return (h - 5.5) * 2;
  if (h < 22) return 1;
  return 1 - (h - 22) * 2;
}
