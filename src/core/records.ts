import type { Reading } from './reading.js';

/** The result of one window of one stream: what an aggregate output carries. */
export interface WindowResult {
  stream: string;
  /** Window kind that produced it (`tumbling`, `hopping`, `sliding`, `session`, `count`). */
  window: string;
  /** Inclusive start and exclusive end, in event time (ms since epoch). For count windows: first and last reading time. */
  start: number;
  end: number;
  /** Number of readings in the window. */
  count: number;
  /** Aggregate name → value, e.g. `{ mean: 20.1, p95: 23.4 }`. */
  values: Record<string, number>;
  /** True when the window was closed early (idle source, count window not full, shutdown). */
  partial?: boolean;
}

export type Severity = 'info' | 'warning' | 'critical';

/** One event in an alert's life: raised once, maybe updated while active, cleared once. */
export interface AlertRecord {
  /** Stable for the whole life of the alert: `raised` and `cleared` carry the same id. */
  id: string;
  state: 'raised' | 'active' | 'cleared';
  stream: string;
  /** Detector name (the step's `name`, or its kind). */
  detector: string;
  severity: Severity;
  /** Score in [0, 1] at this event (the peak so far for `active`/`cleared`). */
  score: number;
  /** Event time the alert was raised (ms). */
  start: number;
  /** Event time it cleared (ms), on `cleared` only. */
  end?: number;
  /**
   * Event time it was judged, when that came after `start`: an alert raised once what it needed
   * was known (a harsh brake judged when the vehicle's forward axis was learnt). Absent: judged
   * as it happened.
   */
  judged?: number;
  /** Value at this event (the reading or aggregate the detector judged). */
  value: number;
  /** The detector's baseline (expected value) at this event, when it has one. */
  baseline?: number;
  /** Which rule fired, in words (e.g. "z=5.2 > 4 (ewma)"). */
  reason?: string;
  pipeline?: string;
}

/** What a pipeline hands to its sinks. `output` is the pipeline's named output. */
export type Emission =
  | { kind: 'reading'; pipeline: string; output: string; reading: Reading }
  | { kind: 'aggregate'; pipeline: string; output: string; result: WindowResult }
  | { kind: 'alert'; pipeline: string; output: string; alert: AlertRecord }
  /** A reading later than the allowed lateness: the side output, never silently dropped. */
  | { kind: 'late'; pipeline: string; output: string; reading: Reading; watermark: number };


/** Upstream priority, lowest dropped first when the outbox is full. */
export const PRIORITY = { raw: 0, aggregate: 1, alert: 2 } as const;
export type Priority = (typeof PRIORITY)[keyof typeof PRIORITY];
/** The priorities, lowest first (the order the outbox drops and drains in). */
export const PRIORITIES: readonly Priority[] = [PRIORITY.raw, PRIORITY.aggregate, PRIORITY.alert];
/** One value per priority, indexed by `Priority`. */
export type ByPriority<T> = [raw: T, aggregate: T, alert: T];
export type PerPriority = ByPriority<number>;

export function priorityOf(e: Emission): Priority {
  switch (e.kind) {
    case 'alert':
      return PRIORITY.alert;
    case 'aggregate':
      return PRIORITY.aggregate;
    default:
      return PRIORITY.raw;
  }
}

export type Sink = (e: Emission) => void;

/** What a detector says about one reading. Detectors reuse one object: copy what you keep. */
export interface Judgement {
  /** In [0, 1]. Every detector maps its statistic so that `score >= 0.5` exactly when `anomalous`. */
  score: number;
  /** The decision for this reading (warm-up readings are never anomalous). */
  anomalous: boolean;
  /** Expected value (or, for dropout, the expected interval in ms); NaN when the detector has none yet. */
  baseline: number;
  /** The statistic the rule compared with its limit (z-score, CUSUM sum, run length, ...). */
  deviation: number;
  /** The limit it was compared with. */
  limit: number;
  /** Which rule produced the decision, e.g. `ewma_z`, `cusum_up`, `flatline`; `warmup` while learning. */
  rule: string;
}
