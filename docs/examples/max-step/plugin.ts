/**
 * The `max_step` detector: anomalous when a reading differs from the one before by more than
 * `max_step` (value units). The example of docs/plugins.md; test/plugins/guide-example.test.ts
 * registers and runs it.
 */
import type { z } from 'zod';
import type { DetectorSchemaKit } from '../../../src/detectors/schema.js';
import { checkKind, newJudgement, scoreOf, snapNum, type Detector, type DetectorPlugin } from '../../../src/detectors/types.js';

// 1. The config schema: the detector's own fields (name, field, alert and output are added).
function schema({ z, detectStep }: DetectorSchemaKit) {
  return detectStep('max_step', {
    max_step: z.number().positive().describe('Largest change from one reading to the next that is normal (value units).'),
  });
}
export type MaxStepSpec = z.output<ReturnType<typeof schema>>;

// 2. The detector: one per stream; no I/O, time from the readings, state as plain JSON.
export class MaxStepDetector implements Detector {
  readonly kind = 'max_step';
  private readonly out = newJudgement();
  private previous = NaN;

  constructor(private readonly maxStep: number) {
    this.out.limit = maxStep;
  }

  update(_ts: number, value: number) {
    const step = Number.isNaN(this.previous) ? 0 : Math.abs(value - this.previous);
    this.previous = value;
    this.out.deviation = step;
    this.out.anomalous = step > this.maxStep;
    this.out.score = this.out.anomalous ? Math.max(0.5, scoreOf(step, this.maxStep)) : Math.min(0.49, scoreOf(step, this.maxStep));
    this.out.rule = 'max_step';
    return this.out;
  }

  snapshot() {
    return { kind: this.kind, previous: Number.isNaN(this.previous) ? null : this.previous };
  }

  restore(snap: Record<string, unknown>) {
    checkKind(snap, this.kind);
    this.previous = snapNum(snap, 'previous', this.kind);
  }
}

// 3. The declaration: kind, schema, factory, docs text and a sample config.
export const maxStepPlugin: DetectorPlugin<MaxStepSpec> = {
  type: 'detector',
  kind: 'max_step',
  description: 'Anomalous when a reading differs from the previous one by more than `max_step`.',
  schema,
  create: (spec) => new MaxStepDetector(spec.max_step),
  sample: `
detector: max_step
max_step: 5
`,
};
