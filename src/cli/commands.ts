import type { Command } from 'commander';
import { register as backtest } from './backtest.js';
import { register as demo } from './demo.js';
import { register as hashPassword } from './hash-password.js';
import { register as replay } from './replay.js';
import { register as run } from './run.js';
import { register as schema } from './schema.js';
import { register as sim } from './sim.js';
import { register as validate } from './validate.js';

/**
 * Every CLI subcommand lives in its own file under src/cli/ and exports `register(program)`.
 * Add one line here per subcommand.
 */
export const commands: Array<(program: Command) => void> = [
  run,
  demo,
  replay,
  backtest,
  hashPassword,
  validate,
  schema,
  sim,
];
