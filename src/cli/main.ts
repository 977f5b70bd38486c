#!/usr/bin/env node
import './quiet-debug.js'; // before aedes, mqtt-packet and mqtt load
import { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registersFor } from './commands.js';

/** The package.json above this file (src/cli when run with tsx, dist/src/cli when built). */
function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const f = join(dir, 'package.json');
    if (existsSync(f)) {
      const pkg = JSON.parse(readFileSync(f, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'edgewise') return pkg.version ?? '0.0.0';
    }
  }
  return '0.0.0';
}

export async function buildProgram(argv: readonly string[] = process.argv.slice(2)): Promise<Command> {
  const program = new Command('edgewise')
    .description('Edgewise: an IoT edge stream processor. Reads sensors, detects anomalies on the device, forwards upstream over MQTT.')
    .version(packageVersion(), '-v, --version')
    .showHelpAfterError('(run with --help for usage)');
  for (const register of await registersFor(argv)) register(program);
  return program;
}

buildProgram()
  .then((program) => program.parseAsync(process.argv))
  .catch((err: unknown) => {
    process.stderr.write(`edgewise: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
