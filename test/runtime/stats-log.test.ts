import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/core/log.js';
import type { GatewayStats } from '../../src/runtime/gateway.js';
import { dropsByReason, formatStatsLine, startStatsLog, statsLine } from '../../src/runtime/stats-log.js';
import { waitFor } from './helpers.js';

function stats(readings: number, inputDrops: Record<string, number>, nanDrops: number): GatewayStats {
  return {
    gateway: 'gw',
    clock: { correctionMs: 0, devices: 0, agreeing: 0 },
    readings,
    unrouted: 0,
    inputs: [{ name: 'local', kind: 'mqtt', state: 'up', counters: { readings }, dropped: inputDrops }],
    pipelines: [{ pipeline: 'temps', received: readings, accepted: readings, dropped: nanDrops ? { nan: nanDrops } : {}, late: 0, refused: 0, unaccounted: 0, rebased: 0, filtered: 0, windowsFired: 0, forgottenDevices: 0, forgotten: 0, emitted: {}, keys: 1, openWindows: 0, operators: {}, gauges: {}, detectors: [] }],
  };
}

test('stats line: readings/s and drops by reason since the previous line', () => {
  const a = stats(1000, { not_a_number: 2 }, 0);
  const b = stats(7000, { not_a_number: 5, unknown_topic: 1 }, 4);
  assert.deepEqual(dropsByReason(b), { 'input:local.not_a_number': 5, 'input:local.unknown_topic': 1, 'pipeline:temps.nan': 4 });
  const line = statsLine(a, b, 60_000, 2);
  assert.deepEqual(line, { readingsPerSecond: 100, dropped: { 'input:local.not_a_number': 3, 'input:local.unknown_topic': 1, 'pipeline:temps.nan': 4 }, alertsActive: 2, outboxDepth: null, uplink: null });
  assert.equal(formatStatsLine(line), '100 readings/s | drops: input:local.not_a_number=3 input:local.unknown_topic=1 pipeline:temps.nan=4 | alerts active: 2 | outbox: off | uplink: off');
  assert.equal(formatStatsLine(statsLine(b, b, 60_000, 0)).split(' | ')[1], 'drops: none');
  const up = { state: 'online', tooLarge: 0, quarantined: 0 } as NonNullable<GatewayStats['upstream']>;
  assert.equal(statsLine(b, { ...b, upstream: up }, 60_000, 0).uplink, 'online');
  assert.equal(statsLine(b, { ...b, upstream: { ...up, tooLarge: 2, quarantined: 1 } }, 60_000, 0).uplink, 'online, kept back 3', 'records kept back in the outbox are in every stats line');
  assert.equal(statsLine(b, { ...b, upstream: { ...up, probing: true, quarantined: 1 } }, 60_000, 0).uplink, 'online, one at a time, kept back 1', 'and a drain slowed to one record a publish');
});

test('the stats log writes a line every interval, and none when it is 0', async () => {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _e, cb) => (lines.push(chunk.toString()), cb()) });
  const log = createLogger({ level: 'info', format: 'json', destination: sink });
  let n = 0;
  const stop = startStatsLog({ everyMs: 20, stats: () => stats((n += 50), {}, 0), alertsActive: () => 0, log });
  await waitFor(() => lines.length >= 3, 'three stats lines');
  stop();
  const first = JSON.parse(lines[0]!) as { msg: string; stats: { readingsPerSecond: number } };
  assert.match(first.msg, /^stats: [\d.]+ readings\/s \| drops: none \| alerts active: 0/);
  assert.ok(first.stats.readingsPerSecond > 0);
  const off = startStatsLog({ everyMs: 0, stats: () => { throw new Error('not called'); }, alertsActive: () => 0, log });
  off();
});
