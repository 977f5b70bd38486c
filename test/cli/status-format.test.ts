import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uplinkLines } from '../../src/cli/status.js';
import type { UpstreamStats } from '../../src/upstream/index.js';

const quiet: UpstreamStats = {
  state: 'online', sent: 10, sentBacklog: 0, batches: 0, payloadBytes: 1000, sentMetered: 0, acked: 10, inFlight: 0, freshQueued: 0, backlogKeys: 0, backlog: 0,
  connects: 1, reconnects: 0, disconnects: 0, noConnack: 0, publishErrors: 0, encodeErrors: 0, tooLarge: 0, quarantined: 0, maxPacketBytes: 0, ackTimeouts: 0, sameId: 0,
  receiveMaximum: 0, nextRetryMs: 0, probeReconnects: 0,
};

test('edgewise status: the uplink says nothing more when all is well, and a line for each thing an operator must act on', () => {
  assert.deepEqual(uplinkLines(quiet), ['uplink: online, sent 10, acked 10, in flight 0, connects 1, reconnects 0']);
  assert.deepEqual(uplinkLines(undefined), ['uplink: not configured']);
  const lines = uplinkLines({ ...quiet, tooLarge: 2, maxPacketBytes: 2000, quarantined: 1, sameId: 4, ackTimeouts: 3, refused: ['subscribe spBv1.0/fleet/NCMD/van-17'] }).slice(1);
  assert.equal(lines.length, 5);
  assert.match(lines[0]!, /^ {2}kept back: 2 records over the broker's packet limit of 2,000 bytes/);
  assert.match(lines[1]!, /^ {2}kept back: 1 records the broker closed the connection on/);
  assert.match(lines[2]!, /another gateway uses this gateway id: 4 signs/);
  assert.match(lines[3]!, /3 connections ended by upstream.ack_timeout/);
  assert.match(lines[4]!, /the broker refused: subscribe spBv1\.0\/fleet\/NCMD\/van-17/);
  assert.doesNotMatch(uplinkLines({ ...quiet, tooLarge: 1 })[1]!, /limit of/, 'no limit known: none named');
});
