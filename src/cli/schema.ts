import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { gatewayJsonSchema, generatedFiles, pipelineJsonSchema, stableJson, staleGeneratedFiles } from '../config/schema-json.js';

/** The repository (package) root: the nearest folder above this file with edgewise's package.json. */
export function packageRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'edgewise') return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

export function register(program: Command): void {
  program
    .command('schema')
    .description('Print the JSON Schema of pipelines or gateway configs, or regenerate the committed schema files and docs/configuration.md.')
    .addOption(new Option('-k, --kind <kind>', 'which schema to print').choices(['pipeline', 'gateway']).default('pipeline'))
    .option('-w, --write', 'write pipelines/schema.json, docs/gateway.schema.json and docs/configuration.md')
    .option('--check', 'exit 1 if the committed files differ from what the code generates')
    .option('--root <dir>', 'repository root for --write/--check (default: the package root)')
    .action((o: { kind: 'pipeline' | 'gateway'; write?: boolean; check?: boolean; root?: string }) => {
      const root = resolve(o.root ?? packageRoot());
      if (o.write) {
        for (const f of generatedFiles()) {
          const path = join(root, f.path);
          mkdirSync(dirname(path), { recursive: true });
          const old = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
          if (old !== f.content) writeFileSync(path, f.content);
          process.stdout.write(`${old === f.content ? 'unchanged' : 'wrote'} ${f.path}\n`);
        }
        return;
      }
      if (o.check) {
        const stale = staleGeneratedFiles(root);
        if (stale.length) {
          process.stderr.write(`out of date (run \`npm run schema\`): ${stale.join(', ')}\n`);
          process.exitCode = 1;
        } else process.stdout.write('generated files are up to date\n');
        return;
      }
      process.stdout.write(stableJson(o.kind === 'gateway' ? gatewayJsonSchema() : pipelineJsonSchema()));
    });
}
