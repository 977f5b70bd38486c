import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';

/** Load quiet-debug as the CLI does (first), then mqtt-packet, and parse a PINGREQ. */
const SCRIPT = `
await import('./src/cli/quiet-debug.ts');
const { createRequire } = await import('node:module');
const require = createRequire(process.cwd() + '/x.js');
const mqttPacket = require('mqtt-packet');
const debugFile = require.resolve('debug', { paths: [require('node:path').dirname(require.resolve('mqtt-packet'))] });
const createDebug = require.cache[debugFile].exports;
mqttPacket.parser().parse(Buffer.from([0xc0, 0x00]));
console.log(JSON.stringify({ real: typeof createDebug.coerce === 'function' }));
`;

function run(env: NodeJS.ProcessEnv): { real: boolean; stderr: string } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out.trim().split('\n').at(-1)!) as { real: boolean; stderr: string };
}

describe('quiet debug (src/cli/quiet-debug.ts)', () => {
  it('without DEBUG, the debug loggers of mqtt-packet, aedes and mqtt are no-ops (no argument arrays per packet)', () => {
    const env = { ...process.env };
    delete env.DEBUG;
    assert.equal(run(env).real, false, 'the shared debug module was replaced before mqtt-packet loaded');
  });

  it('with DEBUG set, the real debug module is used, so debug output still works', () => {
    assert.equal(run({ ...process.env, DEBUG: 'mqtt-packet:*' }).real, true);
  });
});
