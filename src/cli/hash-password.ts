import type { Command } from 'commander';
import { createInterface } from 'node:readline';
import { hashPassword } from '../../drivers/mqtt/index.js';

export function register(program: Command): void {
  program
    .command('hash-password')
    .description('Hash a password for the embedded broker (inputs[].broker.users[].password_hash).')
    .argument('[password]', 'the password (default: read one line from standard input, so it stays out of shell history)')
    .action(async (password?: string) => {
      let pw = password;
      if (pw === undefined) {
        const rl = createInterface({ input: process.stdin });
        pw = await new Promise<string>((resolve) => {
          rl.once('line', (l) => {
            resolve(l);
            rl.close();
          });
          rl.once('close', () => resolve(''));
        });
      }
      if (!pw) throw new Error('an empty password cannot be hashed');
      process.stdout.write(`${await hashPassword(pw)}\n`);
    });
}
