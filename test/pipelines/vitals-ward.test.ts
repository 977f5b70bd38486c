/**
 * pipelines/vitals.yaml on a ward where patients come and go. Until 2026-12-05 a discharged
 * patient was scored every 30 s for ever (an empty NEWS2 record upstream each time, 120 an hour
 * and patient), its alert stayed active for ever, and its streams were never freed: a ward would
 * have filled its 10,000 streams in months and then refused new patients.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadPipelineFile } from '../../src/config/load.js';
import { compilePipeline } from '../../src/compile.js';
import type { Emission } from '../../src/core/records.js';

const spec = loadPipelineFile(join(import.meta.dirname, '../../pipelines/vitals.yaml'));
const T0 = Date.UTC(2026, 10, 1, 8);
const MIN = 60_000;
const H = 60 * MIN;

function vitals(sick: boolean): Record<string, number> {
  return { heart_rate: sick ? 135 : 75, spo2: sick ? 90 : 97, resp_rate: sick ? 26 : 15, systolic_bp: 120, temperature: 37, consciousness: 0, on_oxygen: 0 };
}

describe('vitals: a patient discharged', () => {
  it('deteriorates, is discharged at 09:00: scored while a vital is current (4 h), then not; forgotten at 21:00, the alert cleared as such, its streams freed', () => {
    const out: Emission[] = [];
    const p = compilePipeline(spec, (e) => out.push(e));
    for (let t = T0; t < T0 + 14 * H; t += 5000) {
      for (const [m, x] of Object.entries(vitals(t > T0 + 30 * MIN))) {
        if (t < T0 + H) p.push({ stream: `bed-a/${m}`, ts: t, value: x, arrival: t + 20 });
        p.push({ stream: `bed-b/${m}`, ts: t, value: vitals(false)[m]!, arrival: t + 20 });
      }
      p.advanceTo(t + 500);
    }
    const scored = out.flatMap((e) => (e.kind === 'aggregate' && e.result.stream === 'bed-a/news2' ? [e.result.end] : []));
    // temperature, consciousness and oxygen count for 4 h (their max_age), then nothing is current
    assert.ok(scored.at(-1)! <= T0 + 5 * H + MIN && scored.at(-1)! >= T0 + 5 * H - MIN, `last scored ${new Date(scored.at(-1)!).toISOString()}`);
    const alerts = out.flatMap((e) => (e.kind === 'alert' && e.alert.stream === 'bed-a/news2' ? [e.alert] : []));
    assert.deepEqual(alerts.map((a) => a.state), ['raised', 'cleared']);
    assert.equal(alerts[1]!.reason, 'forgotten: bed-a sent nothing for 12h (input.forget_after)');
    assert.ok(Math.abs(alerts[1]!.end! - (T0 + 13 * H)) < MIN, `cleared at ${new Date(alerts[1]!.end!).toISOString()}`);
    const st = p.stats();
    assert.equal(st.forgottenDevices, 1);
    assert.equal(st.keys, 8, "bed-b's seven vitals and its news2 stream");
    assert.equal(st.operators.news2?.forgotten, 1);
    assert.ok((st.operators.news2?.no_vitals ?? 0) > 900, 'the empty intervals from 13:00 to 21:00 counted, not sent');
    // bed-b, the patient who stayed, was scored all along
    const b = out.filter((e) => e.kind === 'aggregate' && e.result.stream === 'bed-b/news2').length;
    assert.ok(b >= 14 * 120 - 1, `bed-b scored ${b} times in 14 h`);
  });
});
