#!/usr/bin/env node
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { commands } from './commands.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url).pathname.replace('/dist/package.json', '/package.json'), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('edgewise')
    .description('Edgewise: an IoT edge stream processor. Reads sensors, detects anomalies on the device, forwards upstream over MQTT.')
    .version(pkg.version, '-v, --version')
    .showHelpAfterError('(run with --help for usage)');
  for (const register of commands) register(program);
  return program;
}

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`edgewise: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
