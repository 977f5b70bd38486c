/** A plain-text table for the terminal: columns padded to their widest cell, numbers right-aligned. */
export function textTable(head: string[], rows: Array<Array<string | number>>): string {
  const cells = [head, ...rows.map((r) => r.map((c) => String(c)))];
  const right = head.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const width = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (right[i] ? c.padStart(width[i] ?? 0) : c.padEnd(width[i] ?? 0))).join('  ').trimEnd();
  return [line(head), line(width.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}
