import type { Command } from 'commander';

type Register = (program: Command) => void;

/**
 * Every CLI subcommand lives in its own file under src/cli/ and exports `register(program)`.
 * Add one line here per subcommand. Modules load lazily: `edgewise run` on a gateway loads only
 * what running needs (not the simulator, backtest or schema generator), which keeps its memory down.
 */
const commands: Record<string, () => Promise<{ register: Register }>> = {
  run: () => import('./run.js'),
  demo: () => import('./demo.js'),
  replay: () => import('./replay.js'),
  backtest: () => import('./backtest.js'),
  'hash-password': () => import('./hash-password.js'),
  validate: () => import('./validate.js'),
  schema: () => import('./schema.js'),
  sim: () => import('./sim.js'),
  status: () => import('./status.js'),
  'dead-letters': () => import('./dead-letters.js'),
  collect: () => import('./collect.js'),
};

/** The commands to register for these arguments: the one named, or all of them (for help and errors). */
export async function registersFor(argv: readonly string[]): Promise<Register[]> {
  const first = argv.find((a) => !a.startsWith('-'));
  // `edgewise --version` needs no subcommand: loading them all would take a second or more.
  if (first === undefined && argv.some((a) => a === '-v' || a === '--version')) return [];
  const one = first === undefined ? undefined : commands[first];
  const mods = await Promise.all((one ? [one] : Object.values(commands)).map((load) => load()));
  return mods.map((m) => m.register);
}
