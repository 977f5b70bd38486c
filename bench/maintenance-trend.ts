/**
 * The slow-trend check of docs/domains.md: pipelines/predictive-maintenance.yaml (and, if given, an
 * older pipeline file to compare) on generated 7-day run-to-failure vibration at 10 min, 1 min and
 * 10 s, seeds 5–7, with and without the trend. Prints each alarm as hours before failure.
 *
 *   git show c99b96c:pipelines/predictive-maintenance.yaml > /tmp/before.yaml
 *   npx tsx bench/maintenance-trend.ts /tmp/before.yaml
 */
import { join } from 'node:path';
import { loadPipelineFile } from '../src/config/load.js';
import { compilePipeline } from '../src/compile.js';
import { bearing, BEARING_FAIL, gaussian } from '../test/pipelines/maintenance-signals.js';

const files = [...process.argv.slice(2), join(import.meta.dirname, '../pipelines/predictive-maintenance.yaml')];
for (const file of files) {
  for (const interval of [600_000, 60_000, 10_000]) {
    for (const seed of [5, 6, 7]) {
      for (const trend of [true, false]) {
        const out: string[] = [];
        const p = compilePipeline(loadPipelineFile(file), (e) => {
          if (e.kind === 'alert' && e.alert.state === 'raised') out.push(`${e.alert.detector}@${((BEARING_FAIL - e.alert.start) / 3_600_000).toFixed(1)}h`);
        });
        const m = gaussian(9);
        for (const { ts, rms } of bearing(interval, trend, seed)) {
          p.push({ stream: 'brg-1/vibration_rms', ts, value: rms });
          p.push({ stream: 'brg-1/vibration_peak', ts, value: rms * (3.2 + 0.2 * m()) });
          p.push({ stream: 'brg-1/vibration_kurtosis', ts, value: 3 + 0.15 * m() });
        }
        p.flush();
        console.log(`${file}  every ${interval / 1000} s  seed ${seed}  ${trend ? 'trend  ' : 'healthy'}  ${out.join(' ') || '-'}`);
      }
    }
  }
}
