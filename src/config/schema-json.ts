/**
 * The generated artefacts of the config schemas: JSON Schema for editors (pipelines/schema.json,
 * docs/gateway.schema.json) and the reference docs (docs/configuration.md). All come from the zod
 * schemas, so they cannot drift; `edgewise schema --write` regenerates them and a test compares.
 *
 * The gateway schema depends on the registered driver kinds (and the pipeline schema on the
 * detectors module): they come from the plugin set (src/plugins.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { configurationDoc } from './docs.js';
import { gatewayConfigSchema } from './gateway.js';
import { pipelineSchema } from './pipeline.js';
import { ASYNCAPI_FILE, asyncApiYaml } from '../upstream/asyncapi.js';

const PIPELINE_SCHEMA_FILE = 'pipelines/schema.json';
const GATEWAY_SCHEMA_FILE = 'docs/gateway.schema.json';
const CONFIGURATION_DOC_FILE = 'docs/configuration.md';

function jsonSchema(schema: z.ZodType, title: string): Record<string, unknown> {
  const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  const { $schema, ...rest } = js;
  return { $schema, title, ...rest };
}

export function pipelineJsonSchema(): Record<string, unknown> {
  return jsonSchema(pipelineSchema(), 'Edgewise pipeline');
}

export function gatewayJsonSchema(): Record<string, unknown> {
  return jsonSchema(gatewayConfigSchema(), 'Edgewise gateway config (edgewise.yaml)');
}

/** Stable text: two-space indent, trailing newline. */
export function stableJson(v: unknown): string {
  return `${JSON.stringify(v, null, 2)}\n`;
}

export interface GeneratedFile {
  /** Path relative to the repository root. */
  path: string;
  content: string;
}

/** Every file generated from the config schemas, with the content the code produces now. */
export function generatedFiles(): GeneratedFile[] {
  return [
    { path: PIPELINE_SCHEMA_FILE, content: stableJson(pipelineJsonSchema()) },
    { path: GATEWAY_SCHEMA_FILE, content: stableJson(gatewayJsonSchema()) },
    { path: CONFIGURATION_DOC_FILE, content: configurationDoc() },
    { path: ASYNCAPI_FILE, content: asyncApiYaml() },
  ];
}

/** Generated files whose committed copy under `root` differs from what the code produces. */
export function staleGeneratedFiles(root: string): string[] {
  return generatedFiles()
    .filter((f) => {
      try {
        return readFileSync(join(root, f.path), 'utf8') !== f.content;
      } catch {
        return true;
      }
    })
    .map((f) => f.path);
}
