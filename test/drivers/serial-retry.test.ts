import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type SerialConfig } from '../../drivers/serial/index.js';
import { serialPlugin } from '../../drivers/serial/plugin.js';
import { serialConfigSchema } from '../helpers/schemas.js';
import { waitFor } from '../runtime/helpers.js';
import { counter, makeCtx, makeDeps } from './helpers.js';

// The real serialport on a device path that is not there (a USB adapter not plugged in): what runs
// without socat. Unplugging an open port and plugging it back is in serial.system.test.ts (a pty pair).
test('a serial port that is not there: the driver reports it down and keeps retrying with backoff, never giving up', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgewise-serial-'));
  const path = join(dir, 'ttyUSB-absent');
  const cfg = serialConfigSchema.parse({ path, format: 'kv', reconnect_min: 20, reconnect_max: 80, silence_timeout: 0 }) as SerialConfig;
  const driver = serialPlugin.create('pump', cfg, makeDeps());
  t.after(async () => {
    await driver.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await driver.start(makeCtx());
  await waitFor(() => counter(driver.counters(), 'open_failures') >= 3, 'three failed opens');
  const h = driver.health();
  assert.equal(h.state, 'down');
  assert.match(h.detail ?? '', /cannot open .*ttyUSB-absent.*retrying in \d+\.\ds \(attempt \d+\)/);
  assert.equal(driver.counters().opens, 0);
  await driver.stop();
  assert.equal(driver.health().state, 'stopped');
});
