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
after(() => {
  if (process.env.FUZZ_RUNS) console.log(`fuzz: ${tried} inputs tried in ${process.argv[1]?.split('/').pop()}`);
});

/** Strings with what breaks parsers: control characters, NUL, lone surrogates, long runs. */
export { default as fc } from 'fast-check';
