import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gatewayConfigSchema } from '../../src/config/gateway.js';
import { builtinPlugins } from '../../src/plugins.js';

const config = {
  gateway: { id: 'gw-1' },
  inputs: [
    { type: 'serial', name: 'gps', path: '/dev/ttyUSB0', format: 'nmea' },
    { type: 'serial', name: 'plc', path: '/dev/ttyACM0', baud_rate: 115200, format: 'csv', csv: { columns: ['ts', 'temp', 'pressure'] } },
    { type: 'gpio', name: 'cabinet', inputs: [{ pin: 17, name: 'door' }, { pin: 22, name: 'flow', mode: 'counter', interval: '1s' }], outputs: [{ pin: 27, name: 'buzzer' }] },
    { type: 'mqtt', name: 'local', broker: { port: 1883 } },
    { type: 'mqtt', name: 'mosquitto', mode: 'client', client: { url: 'mqtt://127.0.0.1:1883' } },
  ],
};

test('a gateway config with serial, gpio and mqtt inputs validates', () => {
  assert.deepEqual(builtinPlugins.drivers().map((f) => f.kind).sort(), ['gpio', 'mqtt', 'serial']);
  const r = gatewayConfigSchema().safeParse(config);
  assert.equal(r.success, true, JSON.stringify(r.error?.issues));
  const inputs = r.data!.inputs as Array<Record<string, unknown>>;
  assert.equal(inputs[0]!.baud_rate, 9600);
  assert.equal((inputs[3]!.broker as { host: string }).host, '127.0.0.1');
  assert.equal(inputs[2]!.enabled, true);
});

test('a typo in a driver field is refused, naming the field', () => {
  const bad = structuredClone(config);
  (bad.inputs[0] as Record<string, unknown>).baudrate = 9600;
  const r = gatewayConfigSchema().safeParse(bad);
  assert.equal(r.success, false);
  assert.match(JSON.stringify(r.error!.issues), /baudrate/);
  const bad2 = structuredClone(config);
  (bad2.inputs[3] as Record<string, unknown>).broker = { prot: 1 };
  assert.equal(gatewayConfigSchema().safeParse(bad2).success, false);
  const bad3 = structuredClone(config);
  (bad3.inputs[2] as Record<string, unknown>).type = 'gpoi';
  assert.equal(gatewayConfigSchema().safeParse(bad3).success, false);
});
