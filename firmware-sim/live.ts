import type { Sample, Simulation } from './sim.js';

export interface SampleWriter {
  write(s: Sample): void;
  /** Called after each batch; may wait for room (backpressure). */
  ready?(): Promise<void>;
  flush?(): void;
}

export interface LiveOptions {
  /** Real-time pacing (default true): tick k is sent when the wall clock reaches its time. false = as fast as the writers take them. */
  realTime?: boolean;
  /** Wall clock (ms); injected for tests. Default Date.now. */
  now?: () => number;
  /** Wall time at which simulated time `sim.opts.start` happens. Default: now. */
  epoch?: number;
  /** Most ticks in one batch (bounds the work between event-loop turns). Default 1000. */
  maxBatch?: number;
  signal?: AbortSignal;
  /** Called after each batch with the ticks done so far. */
  onBatch?: (ticks: number) => void;
}

export interface LiveSummary {
  ticks: number;
  samples: number;
  /** Batches sent after their due time by more than a second (the machine could not keep up). */
  lateBatches: number;
  aborted: boolean;
}

/**
 * Run a simulation into writers. Paced: the run's simulated time is mapped onto the wall clock
 * (`epoch` + offset), every due tick is produced in batches, and the loop sleeps until the next
 * tick is due. Faults happen at the times their ground truth says.
 */
export async function runLive(sim: Simulation, writers: SampleWriter[], o: LiveOptions = {}): Promise<LiveSummary> {
  const now = o.now ?? Date.now;
  const realTime = o.realTime ?? true;
  const epoch = o.epoch ?? now();
  const maxBatch = o.maxBatch ?? 1000;
  const offset = epoch - sim.opts.start;
  let k = 0;
  let samples = 0;
  let late = 0;
  const sink = (s: Sample) => {
    samples++;
    for (const w of writers) w.write(s);
  };
  while (k < sim.ticks) {
    if (o.signal?.aborted) break;
    let to = k + maxBatch;
    if (realTime) {
      const wall = now();
      // ticks due by now
      let due = k;
      while (due < to && sim.timeOf(due) + offset <= wall) due++;
      if (due === k) {
        const wait = sim.timeOf(k) + offset - wall;
        await sleep(Math.min(Math.max(1, wait), 1000), o.signal);
        continue;
      }
      if (wall - (sim.timeOf(k) + offset) > 1000) late++;
      to = due;
    }
    k = sim.run(k, to, sink);
    for (const w of writers) w.flush?.();
    for (const w of writers) if (w.ready) await w.ready();
    o.onBatch?.(k);
    if (!realTime) await new Promise((r) => setImmediate(r));
  }
  return { ticks: k, samples, lateBatches: late, aborted: o.signal?.aborted ?? false };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
