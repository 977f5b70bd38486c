import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoginGuard, LoginBlocked, LOGIN_GUARD_DEFAULTS } from '../../drivers/mqtt/login-guard.js';

/** The login guard alone, on an injected clock: back-off per address, one check at a time, a bounded table. */

const wrong = () => Promise.resolve(false);
const right = () => Promise.resolve(true);

test('an address backs off after N failures, for 1 s, then 2 s, …; a success clears it', async () => {
  let now = 0;
  const g = new LoginGuard({ ...LOGIN_GUARD_DEFAULTS, failuresPerAddress: 3 }, () => now);
  for (let i = 0; i < 3; i++) assert.equal(await g.attempt('a', wrong), false);
  assert.equal(g.attempt('a', right), 'blocked', 'blocked even with the right password: no check while backing off');
  assert.notEqual(g.attempt('b', wrong), 'blocked', 'other addresses are not affected');
  now += 1_001;
  for (let i = 0; i < 3; i++) assert.equal(await g.attempt('a', wrong), false);
  assert.equal(g.attempt('a', right), 'blocked');
  now += 1_001;
  assert.equal(g.attempt('a', right), 'blocked', 'the second back-off lasts 2 s');
  now += 1_000;
  assert.equal(await g.attempt('a', right), true);
  for (let i = 0; i < 3; i++) assert.equal(await g.attempt('a', wrong), false);
  assert.equal(g.attempt('a', right), 'blocked');
  now += 1_001;
  assert.notEqual(g.attempt('a', right), 'blocked', 'after a success the back-off starts again at 1 s');
});

test('checks run one at a time; a full queue refuses at once; a queued login of a blocked address is not checked', async () => {
  const g = new LoginGuard({ ...LOGIN_GUARD_DEFAULTS, failuresPerAddress: 2, maxQueued: 3 });
  let running = 0;
  let most = 0;
  let checks = 0;
  const slow = () =>
    new Promise<boolean>((resolve) => {
      checks++;
      most = Math.max(most, ++running);
      setImmediate(() => {
        running--;
        resolve(false);
      });
    });
  const all = [1, 2, 3, 4].map(() => g.attempt('x', slow));
  assert.equal(g.attempt('y', slow), 'busy', '1 running + 3 queued: the fifth is refused');
  const results = await Promise.allSettled(all as Array<Promise<boolean>>);
  assert.equal(most, 1);
  assert.equal(checks, 2, 'the two queued after the address reached 2 failures were not checked');
  assert.equal(results.filter((r) => r.status === 'rejected' && r.reason instanceof LoginBlocked).length, 2);
});

test('the address table is bounded', async () => {
  const g = new LoginGuard({ ...LOGIN_GUARD_DEFAULTS, maxAddresses: 100 });
  for (let i = 0; i < 1000; i++) await g.attempt(`10.0.${i >> 8}.${i & 255}`, wrong);
  assert.equal(g.addresses, 100);
});
