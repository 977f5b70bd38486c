/**
 * Live, a stream that stops is reported while it is silent: detectors of absence (`dropout`) are
 * asked on the gateway's ticks, not only when the next reading comes (which, for a sensor that died,
 * never happens). In a replay (no ticks) the reading after a gap is what is judged, as before.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pipelineSchema } from '../../src/config/pipeline.js';
import { compilePipeline } from '../../src/compile.js';
import type { AlertRecord } from '../../src/core/records.js';
import type { Pipeline } from '../../src/engine/pipeline.js';

const T0 = Date.UTC(2024, 6, 1);
const spec = pipelineSchema().parse({
  name: 'pumps',
  input: { streams: ['*/current_a'] },
  steps: [{ detect: { name: 'silent', detector: 'dropout', missing: 5, alert: { severity: 'critical' } } }],
});

function gateway() {
  const alerts: AlertRecord[] = [];
  const p = compilePipeline(spec, (e) => {
    if (e.kind === 'alert') alerts.push(e.alert);
  });
  return { p, alerts, got: () => alerts.map((a) => `${a.stream} ${a.state} ${(a.start - T0) / 1000}${a.end ? `-${(a.end - T0) / 1000}` : ''}`) };
}

/** Second `s` of the run: pump-1 and pump-2 send (arriving as sent) unless silent, then the gateway ticks. */
function second(p: Pipeline, s: number, silent: (pump: string, s: number) => boolean = () => false) {
  const at = T0 + s * 1000;
  for (const pump of ['pump-1', 'pump-2']) if (!silent(pump, s)) p.push({ stream: `${pump}/current_a`, ts: at, value: 20, arrival: at + 50 });
  p.advanceTo(at + 500);
}

describe('live: silent streams are reported while silent', () => {
  it('a pump whose sensor dies is reported 5 intervals after its last reading, once, with no reading after it; the other pump is not', () => {
    const { p, got } = gateway();
    for (let s = 0; s < 120; s++) second(p, s, (pump, t) => pump === 'pump-1' && t >= 60);
    // last reading at 59 s: silent ≥ 5 s by the tick at 64.5 s (event time 59 + 5.45)
    assert.deepEqual(got(), ['pump-1/current_a raised 64.45']);
  });

  it('when it comes back, the alert clears on the first reading on time (the gap itself is still anomalous)', () => {
    const { p, got } = gateway();
    for (let s = 0; s < 120; s++) second(p, s, (pump, t) => pump === 'pump-1' && t >= 60 && t < 90);
    assert.deepEqual(got(), ['pump-1/current_a raised 64.45', 'pump-1/current_a cleared 64.45-91']);
  });

  it('in a replay (no ticks) the reading after the gap raises it, as before', () => {
    const { p, got } = gateway();
    for (let s = 0; s < 120; s++) if (!(s >= 60 && s < 90)) p.push({ stream: 'pump-1/current_a', ts: T0 + s * 1000, value: 20 });
    p.flush();
    assert.deepEqual(got(), ['pump-1/current_a raised 90', 'pump-1/current_a cleared 90-91']);
  });

  it('after a restart that took 10 minutes, silence is counted from the restart: no alert for pumps that resume, one for a pump that does not', () => {
    const before = gateway();
    for (let s = 0; s < 60; s++) second(before.p, s);
    const snap = structuredClone(before.p.snapshot());
    const after = gateway();
    assert.deepEqual(after.p.restore(snap), []);
    // down from 60 s to 660 s; the first tick after it, then pump-2 comes back within 3 s and pump-1 never
    after.p.advanceTo(T0 + 660_000);
    for (let s = 663; s < 700; s++) second(after.p, s, (pump) => pump === 'pump-1');
    // pump-1: silent 5 s after the restart by the tick at 665.5 s (its time: 59 + 606.45 s since its last reading arrived)
    assert.deepEqual([...before.got(), ...after.got()], ['pump-1/current_a raised 665.45']);
  });

  it('after a restart, a reading that arrives before the first tick is not judged against the downtime either', () => {
    const before = gateway();
    for (let s = 0; s < 60; s++) second(before.p, s);
    const after = gateway();
    assert.deepEqual(after.p.restore(structuredClone(before.p.snapshot())), []);
    for (let s = 663; s < 700; s++) second(after.p, s);
    assert.deepEqual([...before.got(), ...after.got()], []);
  });

  it('a stream still learning its interval is not judged', () => {
    const { p, got } = gateway();
    for (let s = 0; s < 5; s++) second(p, s);
    for (let s = 5; s < 60; s++) second(p, s, () => true);
    assert.deepEqual(got(), []);
  });
});
