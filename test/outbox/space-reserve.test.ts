import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../../src/core/log.js';
import { Outbox } from '../../src/outbox/index.js';
import { SpaceReserve } from '../../src/outbox/space-reserve.js';
import { outboxConfig, raw, tempDir } from '../upstream/helpers.js';

test('space reserve: a 32nd of the file system between 64 KiB and 4 MiB, made next to the outbox at its first write, deleted on demand', (t) => {
  assert.equal(SpaceReserve.bytesFor(2 * 1024 * 1024), 64 * 1024);
  assert.equal(SpaceReserve.bytesFor(8 * 1024 * 1024), 256 * 1024);
  assert.equal(SpaceReserve.bytesFor(32 * 1024 ** 3), 4 * 1024 * 1024);

  const { dir, cleanup } = tempDir('edgewise-reserve-');
  t.after(cleanup);
  const outbox = Outbox.open({ config: outboxConfig(), dataDir: dir, gatewayId: 'gw', log: silentLogger() });
  outbox.put(raw('d/v', 1, 10));
  outbox.flush();
  const file = join(dir, 'outbox.db-reserve');
  assert.ok(existsSync(file), 'made at the first commit');
  assert.ok(statSync(file).size >= 64 * 1024);
  outbox.close();

  const r = new SpaceReserve(join(dir, 'outbox.db'));
  assert.equal(r.held, true, 'found again at the next start');
  assert.ok(r.release() >= 64 * 1024);
  assert.equal(existsSync(file), false);
  assert.equal(r.release(), 0, 'released once');
});
