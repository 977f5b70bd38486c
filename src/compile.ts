/**
 * The pipeline compiler: from a validated pipeline config (src/config/pipeline.ts) to a running
 * engine pipeline. It maps the config to the engine's own types (src/engine/spec.ts) and builds
 * each detect step and operator step from its plugin, so neither the engine nor the config module
 * holds a registry: the plugin set (by default every built-in plugin, src/plugins.ts) is passed in.
 */
import type { PipelineSpec, StepSpec } from './config/pipeline.js';
import { RESERVED_STEP_KEYS, type PluginSet } from './plugin-set.js';
import type { Sink } from './core/records.js';
import { compileDetectStep, type DetectStep, type DetectStepSpec } from './detectors/step.js';
import { Pipeline, type PipelineOptions } from './engine/pipeline.js';
import type { EnginePipelineSpec, EngineStep } from './engine/spec.js';
import { builtinPlugins } from './plugins.js';

/** A validated pipeline, compiled with the plugins of this build. */
export function compilePipeline(spec: PipelineSpec, sink: Sink, opts?: PipelineOptions, plugins: PluginSet = builtinPlugins): Pipeline {
  return new Pipeline(toEngineSpec(spec, plugins), sink, opts);
}

/** A validated pipeline config in the engine's types, its detect and operator steps built. */
function toEngineSpec(spec: PipelineSpec, plugins: PluginSet = builtinPlugins): EnginePipelineSpec {
  const { input } = spec;
  return {
    name: spec.name,
    input: {
      streams: input.streams,
      max_keys: input.max_keys,
      max_future_skew: input.max_future_skew,
      time: input.time,
      idle_timeout: input.idle_timeout,
      forget_after: input.forget_after,
      clock_jump: { threshold: input.clock_jump.threshold, confirm: input.clock_jump.confirm },
    },
    steps: spec.steps.map((st) => toEngineStep(st, spec.name, plugins)),
  };
}

function toEngineStep(st: StepSpec, pipeline: string, plugins: PluginSet): EngineStep {
  const streams = st.streams;
  if (st.filter) return { kind: 'filter', filter: st.filter, streams };
  if (st.map) return { kind: 'map', map: st.map, streams };
  if (st.window) return { kind: 'window', window: st.window };
  if (st.output !== undefined) return { kind: 'output', output: typeof st.output === 'string' ? st.output : st.output.name, streams };
  if (st.detect) return { kind: 'detect', detect: compileDetect(st.detect as DetectStepSpec, plugins, pipeline), streams };
  const record = st as Record<string, unknown>;
  const kind = Object.keys(record).find((k) => !RESERVED_STEP_KEYS.includes(k) && record[k] !== undefined);
  const plugin = kind === undefined ? undefined : plugins.operator(kind);
  if (!plugin) throw new Error(`pipeline ${pipeline}: step kind "${kind}" has no operator plugin in this build (src/plugins.ts lists them)`);
  return { kind: 'operator', operator: plugin.compile(record[kind!]), streams };
}

/** A validated `detect` step, built by its detector's plugin. */
export function compileDetect(spec: DetectStepSpec, plugins: PluginSet = builtinPlugins, pipeline?: string): DetectStep {
  const plugin = plugins.detector(spec.detector);
  if (!plugin) throw new Error(`${pipeline ? `pipeline ${pipeline}: ` : ''}detector "${spec.detector}" has no plugin in this build (src/plugins.ts lists them)`);
  return compileDetectStep(spec, plugin);
}
