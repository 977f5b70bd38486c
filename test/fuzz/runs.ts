import { after } from 'node:test';

/**
 * How many cases each property runs: `quick` in `npm test` (a few seconds a file); `npm run fuzz`
 * sets FUZZ_RUNS (cases per property) for the long run. Each file prints how many inputs it tried.
 */
export function runs(quick: number): number {
  const n = Number(process.env.FUZZ_RUNS);
  return Number.isFinite(n) && n > 0 ? n : quick;
}

let tried = 0;
/** Count inputs tried (reported once per file). */
export function tried1(n = 1): void {
  tried += n;
}
const t0 = process.cpuUsage();
after(() => {
  if (!process.env.FUZZ_RUNS) return;
  const cpu = process.cpuUsage(t0);
  const mb = (n: number) => (n / 1024 / 1024).toFixed(0);
  const m = process.memoryUsage();
  console.log(`fuzz: ${tried} inputs in ${process.argv[1]?.split('/').pop()}, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU, rss ${mb(m.rss)} MB, heap ${mb(m.heapUsed)} MB at the end`);
});
