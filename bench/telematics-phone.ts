/**
 * pipelines/telematics.yaml on the simulator's speed-only vans at 1 Hz: with their CAN speed, and
 * tracked by a phone app alone (`sim --phone`: stale speed holds, −1 for unknown), the same drives
 * and faults. Prints per seed the harsh brakes and accelerations missed and the false harsh events,
 * then the totals (docs/domains.md, "A speed that holds stale values").
 *
 *   npx tsx bench/telematics-phone.ts [--seeds 1-10] [--vans 4] [--minutes 40] [--duty 40m/1h]
 *
 * With --duty the vans park with the engine off on that schedule; the idling alerts are printed
 * too (a phone tracker has no engine signal: its parking is no idling).
 */
import { parseArgs } from 'node:util';
import { parseDuty } from '../firmware-sim/duty.js';
import { parseDuration } from '../src/core/duration.js';
import { FLEET_START, runFleet } from './telematics-fleet.js';

const { values } = parseArgs({ options: { seeds: { type: 'string', default: '1-10' }, vans: { type: 'string', default: '4' }, minutes: { type: 'string', default: '40' }, duty: { type: 'string' } } });
const duty = values.duty ? { duty: parseDuty(values.duty, parseDuration) } : {};
const [from, to = from] = values.seeds!.split('-').map(Number) as [number, number?];
const at = (ts: number) => `${((ts - FLEET_START) / 1000).toFixed(0)} s`;

for (const phone of [false, true]) {
  let events = 0;
  let missed = 0;
  let wrong = 0;
  for (let seed = from; seed <= to; seed++) {
    const r = runFleet({ seed, devices: Number(values.vans), rateHz: 1, durationMs: Number(values.minutes) * 60_000, phone, ...duty });
    events += r.faults.length;
    missed += r.missed.length;
    wrong += r.wrong.length;
    const list = <T>(xs: T[], f: (x: T) => string) => (xs.length ? ` (${xs.slice(0, 3).map(f).join(', ')}${xs.length > 3 ? ', …' : ''})` : '');
    console.log(
      `${phone ? 'phone' : 'CAN  '} seed ${seed}: ${r.faults.length - r.missed.length}/${r.faults.length} found${list(r.missed, (f) => `missed ${f.device} ${f.fault} at ${at(f.start)}`)}, ` +
        `${r.wrong.length} false${list(r.wrong, (a) => `${a.stream} at ${at(a.start)}`)}; stale_speed ${r.counters.stale_speed ?? 0}, invalid ${r.counters.invalid ?? 0}${values.duty ? `, idling alerts ${r.raised.idling ?? 0}` : ''}`,
    );
  }
  console.log(`${phone ? 'phone' : 'CAN'} total: ${events - missed}/${events} harsh brakes and accelerations found, ${wrong} false harsh events`);
}
