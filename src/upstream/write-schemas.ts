/** Write docs/schemas/<kind>.schema.json from the payload zod schemas: `npx tsx src/upstream/write-schemas.ts`. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { payloadJsonSchemas } from './payload-schema.js';

export function schemaFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [kind, schema] of Object.entries(payloadJsonSchemas())) out[`${kind}.schema.json`] = `${JSON.stringify(schema, null, 2)}\n`;
  return out;
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const dir = path.resolve('docs/schemas');
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(schemaFiles())) writeFileSync(path.join(dir, name), text);
  console.log(`wrote ${Object.keys(schemaFiles()).length} schemas to ${dir}`);
}
