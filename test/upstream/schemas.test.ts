import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../src/core/log.js';
import { Outbox } from '../../src/outbox/index.js';
import { schemaFiles } from '../../src/upstream/write-schemas.js';
import { aggregate, alert, outboxConfig, raw, tempDir } from './helpers.js';

const schemasDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/schemas');

type Schema = Record<string, unknown>;

/** A small JSON Schema checker for the keywords our generated schemas use. Returns the errors. */
function validate(schema: Schema, v: unknown, at = '$'): string[] {
  const errs: string[] = [];
  const typeOk = (t: string) =>
    t === 'null' ? v === null
    : t === 'integer' ? Number.isInteger(v)
    : t === 'number' ? typeof v === 'number'
    : t === 'object' ? typeof v === 'object' && v !== null && !Array.isArray(v)
    : t === 'array' ? Array.isArray(v)
    : typeof v === t;
  for (const [k, s] of Object.entries(schema)) {
    switch (k) {
      case 'type': {
        const ts = Array.isArray(s) ? (s as string[]) : [s as string];
        if (!ts.some(typeOk)) errs.push(`${at}: expected ${ts.join('|')}, found ${JSON.stringify(v)}`);
        break;
      }
      case 'const':
        if (v !== s) errs.push(`${at}: expected ${JSON.stringify(s)}`);
        break;
      case 'enum':
        if (!(s as unknown[]).includes(v)) errs.push(`${at}: not one of ${JSON.stringify(s)}`);
        break;
      case 'minimum':
        if (typeof v === 'number' && v < (s as number)) errs.push(`${at}: < ${s}`);
        break;
      case 'maximum':
        if (typeof v === 'number' && v > (s as number)) errs.push(`${at}: > ${s}`);
        break;
      case 'anyOf':
        if (!(s as Schema[]).some((sub) => validate(sub, v, at).length === 0)) errs.push(`${at}: matches none of anyOf`);
        break;
      case 'required':
        for (const r of s as string[]) if (typeOk('object') && !(r in (v as object))) errs.push(`${at}: missing ${r}`);
        break;
      case 'properties':
      case 'additionalProperties':
      case 'propertyNames': {
        if (!typeOk('object')) break;
        const props = (schema.properties ?? {}) as Record<string, Schema>;
        for (const [pk, pv] of Object.entries(v as object)) {
          if (k === 'properties' && props[pk]) errs.push(...validate(props[pk]!, pv, `${at}.${pk}`));
          if (k === 'additionalProperties' && !props[pk]) {
            if (s === false) errs.push(`${at}: unexpected property ${pk}`);
            else if (typeof s === 'object') errs.push(...validate(s as Schema, pv, `${at}.${pk}`));
          }
          if (k === 'propertyNames') errs.push(...validate(s as Schema, pk, `${at}[key ${pk}]`));
        }
        break;
      }
      case '$id':
      case '$schema':
      case 'description':
        break;
      default:
        errs.push(`${at}: keyword ${k} not supported by the test checker`);
    }
  }
  return errs;
}

describe('upstream payload schemas (docs/schemas)', () => {
  it('the files in docs/schemas are up to date with the code (npx tsx src/upstream/write-schemas.ts)', () => {
    for (const [name, text] of Object.entries(schemaFiles())) {
      assert.equal(readFileSync(path.join(schemasDir, name), 'utf8'), text, `${name} is stale`);
    }
  });

  it('real payloads from the outbox validate against the published JSON Schemas, and broken ones do not', () => {
    const { dir, cleanup } = tempDir();
    try {
      const o = Outbox.open({ config: outboxConfig({ forward_late: true }), dataDir: dir, gatewayId: 'gw-1', log: silentLogger() });
      o.put(raw('pump-1/vib', 1));
      o.put({ kind: 'reading', pipeline: 'p', output: 'raw', reading: { stream: 'gps/fix', ts: 5, value: Number.NaN, fields: { q: 2, ok: true, src: 'gga' }, tags: { unit: 'deg' } } });
      o.put(aggregate('pump-1/vib', 2));
      o.put({ kind: 'aggregate', pipeline: 'p', output: 'o', result: { stream: 's/m', window: 'count', start: 1, end: 2, count: 1, values: { std: Number.NaN }, partial: true } });
      o.put(alert('pump-1/vib', 3));
      o.put({ kind: 'alert', pipeline: 'p', output: 'a', alert: { id: 'x', state: 'cleared', stream: 's/m', detector: 'd', severity: 'critical', score: 0.2, start: 1, end: 9, value: 3, baseline: 2, pipeline: 'p' } });
      o.put({ kind: 'late', pipeline: 'p', output: 'late', reading: { stream: 's/m', ts: 1, value: 2 }, watermark: 10 });
      o.flush();
      const payloads = [2, 1, 0].flatMap((p) => o.readFrom(p as 0 | 1 | 2, 0, 100)).map((r) => JSON.parse(r.payload.toString()));
      assert.equal(payloads.length, 7);
      const schemas = Object.fromEntries(
        ['reading', 'aggregate', 'alert', 'late', 'status'].map((k) => [k, JSON.parse(readFileSync(path.join(schemasDir, `${k}.schema.json`), 'utf8')) as Schema]),
      );
      for (const p of payloads) assert.deepEqual(validate(schemas[p.kind]!, p), [], JSON.stringify(p));
      assert.deepEqual(validate(schemas.status!, { schema: 1, gateway: 'gw-1', state: 'online', since: 5 }), []);
      // The checker does catch a broken payload.
      const bad = { ...payloads[0], seq: 0, extra: 1 };
      assert.ok(validate(schemas[bad.kind]!, bad).length >= 2);
      o.close();
    } finally {
      cleanup();
    }
  });
});
