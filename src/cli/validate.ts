import { Command, Option } from 'commander';
import { ConfigError, formatConfigIssue, type ConfigIssue } from '../core/config-error.js';
import { checkGatewayText, checkPipelineText, detectConfigKind } from '../config/load.js';
import { readConfigFile } from '../config/read-config.js';

export type ConfigKind = 'auto' | 'pipeline' | 'gateway';

export interface ValidateResult {
  file: string;
  kind: 'pipeline' | 'gateway';
  ok: boolean;
  /** `pipeline NAME` or `gateway ID, N pipelines` when ok. */
  summary?: string;
  issues: ConfigIssue[];
}

/** Validate one file (pipeline or gateway config, by content or `kind`). Never throws. */
export function validateFile(file: string, kind: ConfigKind = 'auto', env: NodeJS.ProcessEnv = process.env): ValidateResult {
  const read = readConfigFile(file);
  if ('error' in read) return { file, kind: kind === 'gateway' ? 'gateway' : 'pipeline', ok: false, issues: [{ file, line: 0, column: 0, path: '', message: read.error }] };
  const text = read.text;
  const k = kind === 'auto' ? detectConfigKind(text) : kind;
  try {
    if (k === 'pipeline') {
      const r = checkPipelineText(text, file);
      return { file, kind: k, ok: r.issues.length === 0, summary: r.spec ? `pipeline ${r.spec.name}` : undefined, issues: r.issues };
    }
    const r = checkGatewayText(text, file, env);
    const n = r.pipelines.length;
    return { file, kind: k, ok: r.issues.length === 0, summary: r.config ? `gateway ${r.config.gateway.id}, ${n} pipeline${n === 1 ? '' : 's'}` : undefined, issues: r.issues };
  } catch (err) {
    if (err instanceof ConfigError) return { file, kind: k, ok: false, issues: err.issues };
    throw err;
  }
}

export function register(program: Command): void {
  program
    .command('validate')
    .description('Check pipeline files and gateway configs; print every error as FILE:LINE:COLUMN: error: FIELD: MESSAGE. Exit 0 when all are valid, 1 otherwise.')
    .argument('<files...>', 'YAML files: pipelines and/or gateway configs')
    .addOption(new Option('-k, --kind <kind>', 'what the files are; auto: a file with a top-level `gateway:` key is a gateway config, anything else a pipeline').choices(['auto', 'pipeline', 'gateway']).default('auto'))
    .option('--no-env', 'gateway configs: ignore EDGEWISE_... environment overrides (check the file alone)')
    .addHelpText(
      'after',
      `
A gateway config is checked with the EDGEWISE_... environment variables applied (as \`edgewise run\`
would see it), and every pipeline file it lists is checked too.

Examples:
  edgewise validate pipelines/*.yaml
  edgewise validate edgewise.yaml
  EDGEWISE_LOG__LEVEL=debug edgewise validate edgewise.yaml

See docs/configuration.md for every field and the environment rule.`,
    )
    .action((files: string[], o: { kind: ConfigKind; env: boolean }) => {
      let bad = 0;
      let errors = 0;
      for (const file of files) {
        const r = validateFile(file, o.kind, o.env ? process.env : {});
        if (r.ok) {
          process.stdout.write(`ok ${file} (${r.summary ?? r.kind})\n`);
        } else {
          bad++;
          errors += r.issues.length;
          for (const i of r.issues) process.stderr.write(`${formatConfigIssue(i)}\n`);
        }
      }
      if (bad > 0) {
        process.stderr.write(`edgewise validate: ${bad} of ${files.length} file${files.length === 1 ? '' : 's'} invalid (${errors} error${errors === 1 ? '' : 's'})\n`);
        process.exitCode = 1;
      }
    });
}
