/**
 * docs/configuration.md, generated from the zod schemas (every field: path, type, default,
 * description) plus the prose around them. Regenerate with `edgewise schema --write`.
 */
import type { z } from 'zod';
import { formatDuration } from '../core/duration.js';
import { ENV_PREFIX, RUNTIME_ENV_VARS, envName } from './env.js';
import { gatewayConfigSchema } from './gateway.js';
import { pipelineSchema } from './pipeline.js';
import type { Plugin } from '../plugin-set.js';
import { builtinPlugins } from '../plugins.js';
import {
  BYTE_SIZE_EXPECTED,
  DURATION_EXPECTED,
  defOf,
  defaultOf,
  describeExpected,
  descriptionOf,
  discriminated,
  isByteSize,
  isDuration,
  isOptional,
  unwrap,
} from './zod-walk.js';

interface FieldDoc {
  /** `steps[].window.size` */
  path: string;
  type: string;
  required: boolean;
  default?: string;
  description: string;
  /** The environment variable (gateway config only), `[]` shown as `<n>`. */
  env?: string;
}

interface SectionDoc {
  title: string;
  intro?: string;
  fields: FieldDoc[];
}

function formatBytes(n: number): string {
  for (const [unit, size] of [['GB', 1024 ** 3], ['MB', 1024 ** 2], ['KB', 1024]] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`;
  }
  return `${n}`;
}

function shortType(schema: z.ZodType): string {
  const s = unwrap(schema);
  if (isDuration(s)) return 'duration';
  if (isByteSize(s)) return 'size';
  const d = defOf(s);
  if (d.type === 'object') return 'mapping';
  if (d.type === 'array') {
    const el = unwrap(d.element);
    const ed = defOf(el);
    if (ed.type === 'object' || discriminated(el)) return 'list of mappings';
    const inner = shortType(el);
    const plural: Record<string, string> = { string: 'strings', 'non-empty string': 'non-empty strings', number: 'numbers', integer: 'integers', duration: 'durations' };
    if (plural[inner]) return `list of ${plural[inner]}`;
    return inner.startsWith('one of ') ? `list, each ${inner}` : `list of (${inner})`;
  }
  return describeExpected(s)
    .replace(DURATION_EXPECTED, 'duration')
    .replace(BYTE_SIZE_EXPECTED, 'size')
    .replace(/(^| or )(a|an) /g, '$1');
}

/** A union with a duration among its options (`never` or a duration). */
function orDuration(schema: z.ZodType): boolean {
  const d = defOf(unwrap(schema));
  return d.type === 'union' && (d.options as z.ZodType[]).some((o) => isDuration(o));
}

function formatDefault(schema: z.ZodType): string | undefined {
  const d = defaultOf(schema);
  if (!d) return undefined;
  const v = d.value;
  if ((isDuration(schema) || orDuration(schema)) && typeof v === 'number') return formatDuration(v);
  if (isByteSize(schema) && typeof v === 'number') return formatBytes(v);
  if (Array.isArray(v)) {
    if (!v.every((x) => typeof x === 'string' || typeof x === 'number')) return undefined;
    const el = defOf(unwrap(schema)).element as z.ZodType | undefined;
    const dur = el !== undefined && isDuration(unwrap(el));
    return `[${v.map((x) => (dur && typeof x === 'number' ? formatDuration(x) : String(x))).join(', ')}]`;
  }
  if (v !== null && typeof v === 'object') return undefined; // its fields list their own defaults
  return typeof v === 'string' ? v : JSON.stringify(v);
}

interface WalkOpts {
  env: boolean;
  sections: SectionDoc[];
}

function envFor(path: string): string {
  return ENV_PREFIX + path.replace(/\[\]/g, '.<n>').split('.').map((s) => (s === '<n>' ? s : s.toUpperCase())).join('__');
}

function walkObject(obj: z.ZodType, prefix: string, fields: FieldDoc[], opts: WalkOpts): void {
  const shape = defOf(unwrap(obj)).shape as Record<string, z.ZodType>;
  for (const [key, child] of Object.entries(shape)) {
    const path = prefix ? `${prefix}.${key}` : key;
    fields.push({
      path,
      type: shortType(child),
      required: !isOptional(child),
      default: formatDefault(child),
      description: descriptionOf(child),
      env: opts.env ? envFor(path) : undefined,
    });
    walkInto(child, path, fields, opts);
  }
}

function walkInto(schema: z.ZodType, path: string, fields: FieldDoc[], opts: WalkOpts): void {
  const s = unwrap(schema);
  if (isDuration(s) || isByteSize(s)) return;
  const d = defOf(s);
  if (d.type === 'object') {
    walkObject(s, path, fields, opts);
    return;
  }
  if (d.type === 'array') {
    walkInto(d.element, `${path}[]`, fields, opts);
    return;
  }
  const du = discriminated(s);
  if (du) {
    for (const o of du.options) {
      const section: SectionDoc = { title: `\`${path}\` with \`${du.key}: ${String(o.value)}\``, intro: descriptionOf(o.schema), fields: [] };
      opts.sections.push(section);
      walkObject(o.schema, path, section.fields, opts);
      const tag = section.fields.find((f) => f.path === (path ? `${path}.${du.key}` : du.key));
      if (tag && !tag.description) tag.description = `Selects this kind (\`${String(o.value)}\`).`;
    }
  }
}

/** The field reference of a schema: a main section and one per discriminated-union branch. */
function schemaSections(schema: z.ZodType, title: string, env: boolean): SectionDoc[] {
  const main: SectionDoc = { title, intro: descriptionOf(schema), fields: [] };
  const opts: WalkOpts = { env, sections: [] };
  walkObject(schema, '', main.fields, opts);
  return [main, ...opts.sections];
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n+/g, ' ');
}

function table(section: SectionDoc, env: boolean): string {
  const head = env
    ? '| field | type | default | description | environment variable |\n|---|---|---|---|---|'
    : '| field | type | default | description |\n|---|---|---|---|';
  const rows = section.fields.map((f) => {
    const def = f.default !== undefined ? `\`${cell(f.default)}\`` : f.required ? '**required**' : '—';
    const cols = [`\`${f.path}\``, cell(f.type), def, cell(f.description)];
    if (env) cols.push(f.env ? `\`${f.env}\`` : '');
    return `| ${cols.join(' | ')} |`;
  });
  return [head, ...rows].join('\n');
}

function render(sections: SectionDoc[], level: string, env: boolean): string {
  return sections
    .map((s, i) => `${i === 0 ? level : `${level}#`} ${s.title}\n\n${s.intro ? `${s.intro}\n\n` : ''}${table(s, env)}\n`)
    .join('\n');
}

/** Fields without a description (for a test that keeps the docs complete). */
export function undocumentedFields(): string[] {
  const all = [...schemaSections(pipelineSchema(), 'pipeline', false), ...schemaSections(gatewayConfigSchema(), 'gateway', true)];
  return all.flatMap((s) => s.fields.filter((f) => !f.description).map((f) => `${s.title}: ${f.path}`));
}

/** The plugins of the build, by type: each kind with its description and sample config (from its declaration). */
function pluginsDoc(): string {
  const where: Record<Plugin['type'], string> = {
    driver: 'a part of the gateway config (`inputs:`)',
    detector: 'the body of a `detect` step',
    operator: 'the body of a step with this key',
  };
  const titles: Record<Plugin['type'], string> = { driver: 'Drivers (`inputs[].type`)', detector: 'Detectors (`detect.detector`)', operator: 'Operator steps' };
  return (['driver', 'detector', 'operator'] as const)
    .map((type) => {
      const list = builtinPlugins.all().filter((p) => p.type === type);
      const items = list.map((p) => `#### \`${p.kind}\`\n\n${p.description}${p.docs ? `\n\n${p.docs.trim()}` : ''}\n\n\`\`\`yaml\n${p.sample.trim()}\n\`\`\`\n`);
      return `### ${titles[type]}\n\nThe sample is ${where[type]}.\n\n${items.join('\n')}`;
    })
    .join('\n');
}

export function configurationDoc(): string {
  const pipeline = render(schemaSections(pipelineSchema(), 'Pipeline fields', false), '###', false);
  const gateway = render(schemaSections(gatewayConfigSchema(), 'Gateway fields', true), '###', true);
  const runtimeVars = RUNTIME_ENV_VARS.map((v) => `\`${v}\``).join(', ');
  return `<!-- Generated by \`edgewise schema --write\` from src/config/*.ts (the zod schemas). Do not edit by hand: a test fails when this file differs from what the code generates. -->
# Configuration

Edgewise reads two kinds of YAML file:

- a **pipeline** (\`pipelines/*.yaml\`): which readings it takes, its steps (filter, map, window, detect, output);
- a **gateway config** (\`edgewise.yaml\`): the gateway's id, its inputs (drivers), the pipelines it runs, the outbox and the upstream broker. Every gateway setting can also be set by an environment variable (see [Environment overrides](#environment-overrides)).

Both are checked against one schema per kind (zod, in \`src/config/\`). The same schema produces the JSON Schema files for editors (\`pipelines/schema.json\`, \`docs/gateway.schema.json\`) and this page, so they always agree with the code.

## Checking a file: \`edgewise validate\`

\`\`\`sh
edgewise validate pipelines/*.yaml edgewise.yaml
\`\`\`

A file with a top-level \`gateway:\` key is a gateway config, anything else a pipeline (\`--kind pipeline|gateway\` forces one). A valid file prints \`ok FILE (pipeline NAME)\` or \`ok FILE (gateway ID, N pipelines)\`; the command exits 0 when every file is valid and 1 otherwise. Validating a gateway config also validates every pipeline file it lists, and applies the \`EDGEWISE_...\` variables of the environment, as \`edgewise run\` would.

Every problem is reported at once, one a line, as \`FILE:LINE:COLUMN: error: FIELD: MESSAGE\`:

\`\`\`text
pipelines/pump.yaml:4:13: error: input.max_keys: expected an integer > 0, found -3
pipelines/pump.yaml:7:5: error: steps[1]: unknown field "windw"; did you mean "window"?
pipelines/pump.yaml:11:13: error: steps[2].window.size: expected a duration such as 500ms, 10s, 5m, 1h or 1d, found "1q"
pipelines/pump.yaml:12:26: error: steps[2].window.aggregates[1]: unknown aggregate "avg"; did you mean "mean"?
pipelines/pump.yaml:15:13: error: steps[4].window: missing required field "size" (a duration such as 500ms, 10s, 5m, 1h or 1d)
env EDGEWISE_LOG__LEVEL: error: log.level: expected one of trace, debug, info, warn, error, fatal, silent, found "loud"
\`\`\`

- Unknown fields are errors (a typo must not be silently ignored), with a did-you-mean from the fields allowed at that place. Unknown values of a fixed list (aggregates, window types, unit conversions, log levels, input types) get one too.
- A missing field is reported at the mapping that should hold it; an unknown field at its key; a wrong value at the value.
- YAML syntax errors (tabs, bad indentation, an unclosed quote or bracket, a key given twice) are reported the same way, with their line and column.
- Checks that compare fields (a hopping window's \`hop\` must divide its \`size\`; at most one window step; \`map\` before the window) run once each field is valid on its own.
- A value that came from an environment variable is reported under the variable's name (\`env NAME\`).

\`edgewise run\` and \`edgewise replay\` load their files the same way, and refuse to start with the same messages.

## Editor support

Pipelines start with a comment that tells the YAML language server (the [YAML extension for VS Code](https://marketplace.visualstudio.com/items?itemName=redhat.vscode-yaml), and other editors that use \`yaml-language-server\`) where the schema is, for completion, hover docs and inline errors:

\`\`\`yaml
# yaml-language-server: $schema=./schema.json
name: pump-vibration
\`\`\`

The path is relative to the file (\`./schema.json\` for files in \`pipelines/\`, \`../schema.json\` one folder deeper). For a gateway config, point at \`docs/gateway.schema.json\` the same way, or map files to schemas once in the VS Code settings:

\`\`\`json
{
  "yaml.schemas": {
    "./pipelines/schema.json": "pipelines/**/*.yaml",
    "./docs/gateway.schema.json": ["edgewise.yaml", "deploy/**/edgewise*.yaml"]
  }
}
\`\`\`

The editor checks the shape (fields, types, patterns); \`edgewise validate\` also checks what JSON Schema cannot express (a hop that divides the window size, unique pipeline names, files that exist).

## Durations and sizes

A duration is written with its unit: \`500ms\`, \`10s\`, \`1.5m\`, \`2h\`, \`1d\` (only \`0\` may go without). A bare number such as \`keepalive: 30\` is refused, in files and in \`EDGEWISE_...\` variables alike: 30 what? A size is a number of bytes or a string such as \`512KB\`, \`64MB\`, \`1GB\` (1 KB = 1024 bytes).

## Pipelines

One YAML file per pipeline. A step is a mapping with exactly one of \`filter\`, \`map\`, \`window\`, \`detect\`, \`output\`; steps apply in order, per stream (key).

\`\`\`yaml
# yaml-language-server: $schema=./schema.json
name: pump-vibration
input:
  streams: ["pump-*/vibration"]
steps:
  - filter: { min: -50, max: 50 }
  - window: { type: tumbling, size: 10s, aggregates: [mean, stddev, p95], lateness: 2s }
  - output: aggregates
\`\`\`

${pipeline}
## Gateway config

\`\`\`yaml
# yaml-language-server: $schema=./docs/gateway.schema.json
gateway:
  id: gw-1
log:
  level: info
inputs:
  - type: mqtt
    name: local
pipelines:
  - pipelines/*.yaml
\`\`\`

Relative paths (\`pipelines\`, \`gateway.data_dir\`) are relative to the config file. \`pipelines\` takes files and globs (\`*\` within a folder, \`**\` across folders); a glob that matches nothing, a listed file that does not exist, an invalid pipeline and two pipelines with the same \`name\` are all errors.

The sections for inputs come from the driver plugins (one per \`type\`, listed in \`src/plugins.ts\`); the outbox and upstream sections from their modules.

${gateway}
## Plugins

Every driver, detector and operator step is a plugin: one declaration in its own folder (kind, config schema, factory, description and a sample config), listed once in \`src/plugins.ts\`. The fields above come from their schemas; this section from the rest of their declarations. To write one, see [plugins.md](plugins.md).

${pluginsDoc()}
## Environment overrides

Every gateway setting can be set by an environment variable, which wins over the file. This is how balena fleets configure devices: set fleet-wide or per-device variables in the balena dashboard (or \`balena env add\`) and keep one \`edgewise.yaml\` in the image. The same works with \`docker run -e\`, a systemd \`Environment=\` line or a Kubernetes env list.

**The rule:** \`${ENV_PREFIX}\` + the setting's path in upper case, with \`__\` (two underscores) between levels and list items by their index (from 0). Single underscores stay part of a key, so snake_case keys keep their names.

| variable | sets |
|---|---|
| \`${envName(['gateway', 'id'])}=gw-7\` | \`gateway.id: gw-7\` |
| \`${envName(['log', 'level'])}=debug\` | \`log.level: debug\` |
| \`${envName(['upstream', 'url'])}=mqtts://broker.example:8883\` | \`upstream.url\` |
| \`${envName(['upstream', 'tls', 'reject_unauthorized'])}=false\` | \`upstream.tls.reject_unauthorized: false\` |
| \`${envName(['inputs', 0, 'broker', 'port'])}=1884\` | \`inputs[0].broker.port: 1884\` |
| \`${envName(['pipelines'])}='[pipelines/a.yaml, pipelines/b.yaml]'\` | the whole \`pipelines\` list |
| \`${envName(['outbox'])}='{max_bytes: 16MB, durability: full}'\` | the whole \`outbox\` section |

- **Values are read as YAML**: \`1884\` is a number, \`true\`/\`false\` are booleans, \`[a, b]\` is a list and \`{k: v}\` a mapping (flow style, on one line). When a setting takes text and the YAML reading does not fit it, the text is used as it is (\`${envName(['gateway', 'id'])}=007\` gives the id \`"007"\`, not 7).
- A variable for a list item sets that item's field; an index equal to the list's length adds an item (\`${envName(['inputs', 1, 'type'])}=mqtt\` plus \`${envName(['inputs', 1, 'name'])}=...\` when the file has one input). An index further on is an error.
- Variables apply in order of depth: a whole section first, then single fields inside it.
- An empty value is ignored (so \`${envName(['log', 'level'])}=\` leaves the file's value).
- A variable that names no setting is an error with a did-you-mean (\`${ENV_PREFIX}GATEWAY_ID\` → \`${envName(['gateway', 'id'])}\`), so a typo in a fleet variable stops the gateway rather than being ignored.
- Errors in a value name the variable: \`env ${envName(['log', 'level'])}: error: log.level: expected one of trace, debug, info, warn, error, fatal, silent, found "loud"\`.
- Not settings, and so not checked: ${runtimeVars} (the config file path for \`edgewise run\`, and the log level and format used before a config is loaded, e.g. by \`edgewise replay\`).

\`edgewise validate edgewise.yaml\` applies the environment too, so running it on the device (or with the fleet's variables exported) shows exactly what \`edgewise run\` will use.
`;
}
