import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseLines } from '../../drivers/common/line-protocol.js';

/**
 * The decode corpus of influxdata/line-protocol (MIT, test/fixtures/line-protocol/README.md): what
 * InfluxDB's parsers make of each input, a point or an error. Its 235 hand-written cases (the fuzz
 * cases left out) are run through our parser; where we differ on purpose it is listed below.
 */
interface Case {
  text: string;
  precision: string;
  implementation: string;
  output: { error?: string; result?: Array<{ name: string; tags: Array<{ key: string; value: string }>; fields: Array<{ key: string; value: Record<string, unknown> }>; time: number }> };
}
const corpus = JSON.parse(readFileSync(new URL('../fixtures/line-protocol/corpus.json', import.meta.url), 'utf8')) as Record<string, Case>;

/** Where we differ, and why. */
const DIFFERENT: Record<string, string> = {};

function differs(c: Case): string | undefined {
  const outcomes = parseLines(c.text);
  const errors = outcomes.filter((o) => 'error' in o);
  if (c.output.error !== undefined) return errors.length > 0 ? undefined : `accepted; InfluxDB: ${c.output.error}`;
  if (errors.length > 0) return `refused (${'error' in errors[0]! ? errors[0].error : ''}); InfluxDB accepts it`;
  const want = c.output.result ?? [];
  if (want.length !== outcomes.length) return `${outcomes.length} points, InfluxDB ${want.length}`;
  for (const [i, w] of want.entries()) {
    const o = outcomes[i]!;
    if (!('point' in o)) return 'refused';
    const p = o.point;
    const fields = w.fields.map((f) => {
      const [kind, v] = Object.entries(f.value)[0]!;
      return [f.key, kind === 'bool' || kind === 'string' ? v : Number(v)];
    });
    const got = JSON.stringify([p.measurement, p.tags, p.fields]);
    const expected = JSON.stringify([w.name, w.tags.map((t) => [t.key, t.value]), fields]);
    if (got !== expected) return `got ${got}, InfluxDB ${expected}`;
    // The time when the line has one, at the corpus's ns precision (a double holds it to ~256 ns).
    if (p.ts !== undefined && c.precision === '1ns' && Math.abs(p.ts - w.time) > 1024) return `time ${p.ts}, InfluxDB ${w.time}`;
  }
  return undefined;
}

test('line protocol conformance: the decode corpus of influxdata/line-protocol, 235 cases', () => {
  const found: Record<string, string> = {};
  for (const [key, c] of Object.entries(corpus)) {
    const d = differs(c);
    if (d !== undefined) found[key] = `${JSON.stringify(c.text).slice(0, 60)}: ${d.slice(0, 300)}`;
  }
  assert.equal(Object.keys(corpus).length, 235);
  assert.deepEqual(Object.keys(found).sort(), Object.keys(DIFFERENT).sort(), `differences not listed:\n${Object.entries(found).filter(([k]) => !(k in DIFFERENT)).map(([k, v]) => `${k} ${v}`).join('\n')}`);
});
