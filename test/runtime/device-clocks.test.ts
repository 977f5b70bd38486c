import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseGatewayText } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/log.js';
import { type ClockConsensus, DeviceClocks } from '../../src/runtime/device-clocks.js';
import { Gateway } from '../../src/runtime/gateway.js';
import { tempDir } from '../upstream/helpers.js';
import { waitFor } from './helpers.js';

const DAY = 86_400_000;
const TRUE_TIME = Date.UTC(2026, 11, 2, 12);

/** A gateway wall clock `offset` ms off the true time, and a monotonic clock; both advanced by `advance`. */
function clocks(offset: number, enabled = true) {
  let t = TRUE_TIME;
  let wallOff = offset;
  const changes: Array<{ c: ClockConsensus; was: number }> = [];
  const dc = new DeviceClocks({ toleranceMs: 300_000, now: () => t + wallOff, mono: () => t - TRUE_TIME, enabled, onChange: (c, was) => changes.push({ c, was }) });
  return {
    dc,
    changes,
    trueTime: () => t,
    advance: (ms: number) => (t += ms),
    setWall: (off: number) => (wallOff = off),
  };
}

/** One reading from each device (stream `d<i>/temp`) stamped with the true time plus its own clock error. */
function vote(c: ReturnType<typeof clocks>, deviceErrors: number[]): number[] {
  return deviceErrors.map((err, i) => c.dc.arrival(`d${i}/temp`, c.trueTime() + err));
}

test('device clocks: a gateway clock 3 days behind five devices that agree is corrected by their consensus; the gateway time then matches theirs', () => {
  const c = clocks(-3 * DAY);
  vote(c, [0, 1000, -2000, 500, 30_000]);
  c.dc.check();
  assert.equal(c.changes.length, 1);
  assert.ok(Math.abs(c.dc.state.correctionMs - 3 * DAY) < 2000, `correction ${c.dc.state.correctionMs}`);
  assert.deepEqual([c.dc.state.devices, c.dc.state.agreeing], [5, 5]);
  const [arrival] = vote(c, [0]);
  assert.ok(Math.abs((arrival ?? 0) - c.trueTime()) < 2000, 'arrivals are judged by the devices\' time');
});

test('device clocks: one fast device among correct ones, or fewer than three devices, or the check turned off: the gateway clock stands', () => {
  const fast = clocks(0);
  vote(fast, [0, 10, -20, 3_600_000]); // one device an hour ahead
  fast.dc.check();
  assert.equal(fast.dc.state.correctionMs, 0);
  const few = clocks(-3 * DAY);
  vote(few, [0, 10]);
  few.dc.check();
  assert.equal(few.dc.state.correctionMs, 0, 'two devices cannot outvote the gateway');
  const split = clocks(-3 * DAY);
  vote(split, [0, 10, -3 * DAY + 1, -3 * DAY + 5]); // half agree with the gateway: no clear majority
  split.dc.check();
  assert.equal(split.dc.state.correctionMs, 0);
  const off = clocks(-3 * DAY, false);
  vote(off, [0, 10, 20, 30]);
  off.dc.check();
  assert.equal(off.dc.state.correctionMs, 0);
  // A stream's readings stamped by the driver on arrival carry no device clock: no vote.
  const stamped = clocks(-3 * DAY);
  for (let i = 0; i < 5; i++) stamped.dc.arrival(`s${i}/v`, stamped.trueTime() - 3 * DAY);
  stamped.dc.check();
  assert.equal(stamped.dc.state.devices, 0);
});

test('device clocks: NTP setting the gateway clock right while corrected keeps the gateway time continuous and the correction goes back to 0; a step of a trusted clock is taken as it is', () => {
  const c = clocks(-3 * DAY);
  vote(c, [0, 100, 200]);
  c.dc.check();
  assert.ok(c.dc.state.correctionMs > 2 * DAY);
  c.advance(1000);
  const before = c.dc.time();
  c.setWall(0); // NTP steps the wall clock 3 days forward
  c.advance(1000);
  c.dc.check();
  assert.ok(Math.abs(c.dc.time() - before - 1000) < 2000, 'no 3-day jump of the gateway time');
  assert.equal(c.dc.state.correctionMs, 0);
  assert.equal(c.changes.at(-1)?.c.correctionMs, 0, 'the return to the gateway clock is reported');
  vote(c, [1, 100, 200]);
  c.advance(1000);
  c.dc.check();
  assert.equal(c.dc.state.correctionMs, 0, 'and stays');

  const trusted = clocks(0);
  trusted.setWall(DAY); // an operator sets the clock a day ahead: the gateway clock is believed
  trusted.dc.check();
  assert.equal(trusted.dc.state.correctionMs, 0);
});

test('device clocks: a gateway whose clock is 3 days behind (no RTC, before NTP) accepts its devices\' readings once they agree, instead of refusing them all as future', async (t) => {
  const { dir, cleanup } = tempDir('edgewise-clock-');
  t.after(cleanup);
  writeFileSync(join(dir, 'p.yaml'), 'name: p\ninput: { streams: ["*/*"] }\nsteps:\n  - output: raw\n');
  const loaded = parseGatewayText('gateway: { id: gw-clock, data_dir: data }\npipelines: [p.yaml]\n', join(dir, 'edgewise.yaml'), {}, dir);
  const gw = new Gateway({ config: loaded.config, pipelines: loaded.pipelines.map((p) => p.spec), baseDir: dir, log: silentLogger(), now: () => Date.now() - 3 * DAY, tickMs: 20 });
  await gw.start();
  t.after(() => gw.stop());
  const send = () => {
    for (let d = 0; d < 5; d++) gw.push({ stream: `d${d}/temp`, ts: Date.now(), value: d });
  };
  send();
  const pipeline = () => gw.stats().pipelines[0]!;
  assert.equal(pipeline().dropped.future, 5, 'refused before the devices have been heard');
  await waitFor(() => gw.stats().clock.correctionMs > 2 * DAY, 'the correction');
  send();
  assert.equal(pipeline().accepted, 5, 'accepted once the devices agree');
  assert.equal(pipeline().dropped.future, 5);
});

test('device clocks: devices that agree on a time behind the gateway (old data replayed live) do not move the gateway clock', () => {
  const c = clocks(0);
  vote(c, [-30 * DAY, -30 * DAY + 10, -30 * DAY + 20]);
  c.dc.check();
  assert.equal(c.dc.state.correctionMs, 0);
});
