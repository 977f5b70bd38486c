import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { waitFor } from './helpers.js';

/** Hold this process's event loop, as a spawnSync or a starved test process does. */
function stall(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

test('waitFor: what arrived while this process was stalled past the deadline is read before the wait fails', async (t) => {
  let received = '';
  let accepted = false;
  const server = net.createServer((s) => {
    accepted = true;
    s.on('data', (d) => (received += d));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  t.after(() => {
    client.destroy();
    server.close();
  });
  await waitFor(() => accepted, 'the server to take the connection');
  const waiting = waitFor(() => received === 'done', 'the line', 50);
  client.write('done'); // in the server's socket buffer at once (loopback)
  stall(300); // past the deadline: the wait's timer now runs before this turn's I/O
  await waiting;
});

test('waitFor: a message given as a function is read when the wait times out', async () => {
  let state = 'before';
  const waiting = waitFor(() => false, () => `a state that never comes (now ${state})`, 50);
  state = 'after';
  await assert.rejects(waiting, /timed out after 50 ms waiting for a state that never comes \(now after\)/);
});
