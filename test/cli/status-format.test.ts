import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stepLines, uplinkLines } from '../../src/cli/status.js';
import { compilePipeline } from '../../src/compile.js';
import { pipelineSchema } from '../../src/config/pipeline.js';
import { STATUS_ROWS } from '../../src/engine/pipeline.js';
import type { UpstreamStats } from '../../src/upstream/index.js';

const quiet: UpstreamStats = {
  state: 'online', sent: 10, sentBacklog: 0, batches: 0, payloadBytes: 1000, sentMetered: 0, acked: 10, inFlight: 0, freshQueued: 0, backlogKeys: 0, backlog: 0,
  connects: 1, reconnects: 0, disconnects: 0, noConnack: 0, publishErrors: 0, encodeErrors: 0, tooLarge: 0, quarantined: 0, probing: false, maxPacketBytes: 0, ackTimeouts: 0, sameId: 0,
  receiveMaximum: 0, nextRetryMs: 0, probeReconnects: 0,
};

test('edgewise status: the uplink says nothing more when all is well, and a line for each thing an operator must act on', () => {
  assert.deepEqual(uplinkLines(quiet), ['uplink: online, sent 10, acked 10, in flight 0, connects 1, reconnects 0']);
  assert.deepEqual(uplinkLines(undefined), ['uplink: not configured']);
  // The last error is the reason while the link is down, and history (with its time) once it is back.
  const err = { lastError: 'connect ECONNREFUSED 127.0.0.1:1883', lastErrorAt: Date.UTC(2026, 11, 7, 14, 7, 26) };
  assert.match(uplinkLines({ ...quiet, ...err, state: 'offline' })[0]!, /^uplink: offline \(connect ECONNREFUSED 127\.0\.0\.1:1883\), sent 10/);
  assert.match(uplinkLines({ ...quiet, ...err })[0]!, /^uplink: online \(last error at 2026-12-07T14:07:26\.000Z: connect ECONNREFUSED 127\.0\.0\.1:1883\), sent 10/);
  const lines = uplinkLines({ ...quiet, tooLarge: 2, maxPacketBytes: 2000, quarantined: 1, sameId: 4, ackTimeouts: 3, refused: ['subscribe spBv1.0/fleet/NCMD/van-17'] }).slice(1);
  assert.equal(lines.length, 5);
  assert.match(lines[0]!, /^ {2}kept back: 2 records over the broker's packet limit of 2,000 bytes/);
  assert.match(lines[1]!, /^ {2}kept back: 1 records the broker closed the connection on/);
  assert.match(lines[2]!, /another gateway uses this gateway id: 4 signs/);
  assert.match(lines[3]!, /3 connections ended by upstream.ack_timeout/);
  assert.match(lines[4]!, /the broker refused: subscribe spBv1\.0\/fleet\/NCMD\/van-17/);
  assert.doesNotMatch(uplinkLines({ ...quiet, tooLarge: 1 })[1]!, /limit of/, 'no limit known: none named');
  assert.match(uplinkLines({ ...quiet, probing: true })[1]!, /^ {2}probing: sending one record at a time/);
});

test('edgewise status: an operator step\'s rows as a table under its name, numbers to 4 digits and lists spaced; a fleet shows its first 50 rows and says so', () => {
  const spec = pipelineSchema().parse({ name: 'pumps', input: { streams: ['*/*'] }, steps: [{ running: { metric: 'current_a', above: 1, settle: '0s' } }] });
  const p = compilePipeline(spec, () => {});
  for (let i = 0; i < 60; i++) p.push({ stream: `pump-${i}/current_a`, ts: 1_700_000_000_000, value: i % 2 ? 12 : 0 });
  const [running] = p.stepStatus();
  assert.deepEqual([running!.total, running!.rows.length, STATUS_ROWS], [60, 50, 50]);
  const lines = stepLines([running!, { pipeline: 'vans', step: 'telematics', total: 1, rows: [{ vehicle: 'van-7', forward: 'stops', forwardAxis: [0.123456, -0.99, 0], active: [] }] }]).join('\n');
  assert.match(lines, /^pumps running \(the first 50 of 60\):\ndevice\s+state\s+settling\s+since\n/m, lines);
  assert.match(lines, /^pump-1\s+running\s+false\s+2023-11-14T22:13:20\.000Z$/m, lines);
  assert.match(lines, /^pump-0\s+stopped\s+false\s+–$/m, lines);
  assert.match(lines, /^vans telematics:\nvehicle\s+forward\s+forwardAxis\s+active\n[- ]+\nvan-7\s+stops\s+0\.1235 -0\.99 0\s+–$/m, lines);
  assert.deepEqual(stepLines(undefined), [], 'a gateway from before 2026-12-06 sends no steps');
});
