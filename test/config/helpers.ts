import { checkPipelineText } from '../../src/config/load.js';
import type { ConfigIssue } from '../../src/core/config-error.js';

/** Join lines into a YAML document (so line numbers in tests are easy to read). */
export function yaml(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

export function pipelineIssues(text: string, file = 'p.yaml'): ConfigIssue[] {
  return checkPipelineText(text, file).issues;
}

export function brief(i: ConfigIssue): string {
  return `${i.line}:${i.column} ${i.path}: ${i.message}`;
}
