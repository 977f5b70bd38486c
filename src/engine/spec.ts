/**
 * What the engine runs: a pipeline in the engine's own plain types. The config loader validates a
 * pipeline file against its schema (src/config/pipeline.ts); the pipeline compiler (src/compile.ts)
 * maps that to these types, building detect steps and operators from their plugins on the way, so
 * the engine knows neither the schema library nor any plugin. Times are in ms.
 */
import type { EngineDetectStep, EngineOperator } from './pipeline.js';

/** Aggregates a window can compute (src/engine/aggregates.ts). */
export const AGGREGATE_NAMES = [
  'count', 'sum', 'mean', 'min', 'max', 'stddev', 'rms', 'first', 'last', 'rate', 'p50', 'p95', 'p99',
] as const;
export type AggregateName = (typeof AGGREGATE_NAMES)[number];

/** Unit conversions of a map step (src/engine/conversions.ts). */
export const CONVERSIONS = [
  'c_to_f', 'f_to_c', 'c_to_k', 'k_to_c',
  'ms_to_kmh', 'kmh_to_ms', 'knots_to_kmh', 'mph_to_kmh', 'kmh_to_mph',
  'g_to_ms2', 'ms2_to_g', 'bar_to_psi', 'psi_to_bar', 'kpa_to_bar', 'bar_to_kpa',
] as const;
export type Conversion = (typeof CONVERSIONS)[number];

/** Keep what passes, drop (counted as `filtered`) the rest. */
export interface FilterSpec {
  /** `value` for readings, or an aggregate name for window results. */
  readonly field: string;
  readonly min?: number;
  readonly max?: number;
  readonly streams?: readonly string[];
  readonly exclude_streams?: readonly string[];
}

/** value → clamp(convert(value) × scale + offset), and an optional new metric name. */
export interface MapSpec {
  readonly convert?: Conversion;
  readonly scale: number;
  readonly offset: number;
  readonly clamp?: { readonly min?: number; readonly max?: number };
  readonly metric?: string;
}

interface WindowCommon {
  readonly aggregates: readonly AggregateName[];
  /** Close a silent stream's windows after this long by the gateway clock (default per type). */
  readonly idle_timeout?: number;
}
interface EventTimeWindow extends WindowCommon {
  /** How far behind its stream's newest reading a reading may be and still count. */
  readonly lateness: number;
}
export type WindowSpec =
  | (EventTimeWindow & { readonly type: 'tumbling'; readonly size: number })
  | (EventTimeWindow & { readonly type: 'hopping'; readonly size: number; readonly hop: number })
  | (EventTimeWindow & { readonly type: 'sliding'; readonly size: number; readonly resolution?: number })
  | (EventTimeWindow & { readonly type: 'session'; readonly gap: number; readonly max_duration?: number })
  | (WindowCommon & { readonly type: 'count'; readonly size: number; readonly slide?: number });

/** One step; `streams` applies it to matching streams only (others skip it), not for a window. */
export type EngineStep = { readonly streams?: readonly string[] } & (
  | { readonly kind: 'filter'; readonly filter: FilterSpec }
  | { readonly kind: 'map'; readonly map: MapSpec }
  | { readonly kind: 'window'; readonly window: WindowSpec }
  | { readonly kind: 'detect'; readonly detect: EngineDetectStep }
  | { readonly kind: 'operator'; readonly operator: EngineOperator }
  | { readonly kind: 'output'; readonly output: string }
);

interface EngineInput {
  /** Stream patterns the pipeline takes. */
  readonly streams: readonly string[];
  readonly max_keys: number;
  readonly max_future_skew: number;
  readonly time: 'event' | 'ingest';
  readonly idle_timeout?: number;
  /** Live: forget a device silent this long (ms of the gateway's running time); unset: never. */
  readonly forget_after?: number;
  readonly clock_jump: { readonly threshold: number; readonly confirm: number };
}

export interface EnginePipelineSpec {
  readonly name: string;
  readonly input: EngineInput;
  readonly steps: readonly EngineStep[];
}
