/** One problem in a config file (or in an environment variable that overrides one). */
export interface ConfigIssue {
  /** The file, or `env NAME` when the value came from an environment variable. */
  file: string;
  /** 1-based line and column; 0 when the issue has no place in a file (env values, missing files). */
  line: number;
  column: number;
  /** The field, as `steps[2].window.size` (`(top level)` for the document itself, '' for a YAML syntax error). */
  path: string;
  message: string;
}

/** `FILE:LINE:COLUMN: error: <field path>: <message>` (without LINE:COLUMN when there is none). */
export function formatConfigIssue(i: ConfigIssue): string {
  const where = i.line > 0 ? `${i.file}:${i.line}:${i.column}` : i.file;
  return `${where}: error: ${i.path ? `${i.path}: ` : ''}${i.message}`;
}

export function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column));
}

/** Thrown by the loaders: every problem found, each with its place. `message` holds them all, one a line. */
export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    const sorted = sortIssues(issues);
    const n = sorted.length;
    super(`${n} config error${n === 1 ? '' : 's'}:\n${sorted.map(formatConfigIssue).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = sorted;
  }

  /** The issues formatted one a line, as `edgewise validate` prints them. */
  lines(): string[] {
    return this.issues.map(formatConfigIssue);
  }
}
