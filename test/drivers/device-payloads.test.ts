import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MqttIngest } from '../../drivers/mqtt/index.js';
import { JsonLineDecoder } from '../../drivers/serial/index.js';
import { KvDecoder } from '../../drivers/serial/formats.js';
import { DropCounter } from '../../src/core/drops.js';
import type { Reading } from '../../src/core/reading.js';
import { mqttConfigSchema } from '../helpers/schemas.js';
import type { MqttConfig } from '../../drivers/mqtt/config.js';
import { makeCtx } from './helpers.js';

/**
 * Payloads as the common device firmwares publish them (written after each firmware's documented
 * message format: Tasmota's tele/<topic>/SENSOR and STATE, a Shelly Gen2 switch status, a
 * Zigbee2MQTT sensor), through the MQTT driver's decoding. Before nested objects were flattened,
 * Tasmota's energy and temperature messages gave no reading at all (dropped as bad_payload).
 */
function ingest(cfg: Record<string, unknown>, messages: Array<[string, string]>, now = Date.UTC(2026, 11, 2, 12)) {
  const ctx = makeCtx(() => now);
  const m = new MqttIngest(mqttConfigSchema.parse(cfg) as MqttConfig, ctx);
  for (const [topic, payload] of messages) m.handle(topic, Buffer.from(payload));
  const by = Object.fromEntries(ctx.readings.map((r) => [r.stream, r.value]));
  return { readings: ctx.readings, by, drops: ctx.drops, ingest: m };
}

const TASMOTA = { topics: ['tele/{device}/SENSOR', 'tele/{device}/STATE'], ignore_topics: ['tele/+/LWT', 'stat/#', 'cmnd/#'], ts_keys: ['Time'], ts_zone: 'Europe/Berlin' };

test('Tasmota: ENERGY of a power plug, three-phase arrays, several DS18B20 probes and the Wi-Fi state become readings, stamped by the device\'s local Time', () => {
  const { readings, by, drops } = ingest(TASMOTA, [
    ['tele/pow-1/SENSOR', '{"Time":"2026-12-02T13:00:00","ENERGY":{"TotalStartTime":"2026-01-04T10:12:47","Total":12.345,"Yesterday":0.512,"Today":0.207,"Period":1,"Power":45,"ApparentPower":51,"ReactivePower":24,"Factor":0.88,"Voltage":231,"Current":0.221}}'],
    ['tele/meter-3p/SENSOR', '{"Time":"2026-12-02T13:00:00","ENERGY":{"TotalStartTime":"2026-01-04T10:12:47","Total":[1.1,2.2,3.3],"Power":[100,200,300],"Voltage":[230,231,229],"Current":[0.5,0.9,1.3]}}'],
    ['tele/tank/SENSOR', '{"Time":"2026-12-02T13:00:00","DS18B20-1":{"Id":"01144A0CB2AA","Temperature":21.4},"DS18B20-2":{"Id":"3C01D075A4E1","Temperature":19.9},"TempUnit":"C"}'],
    ['tele/pow-1/STATE', '{"Time":"2026-12-02T13:00:00","Uptime":"0T00:13:30","UptimeSec":810,"Heap":27,"SleepMode":"Dynamic","Sleep":50,"LoadAvg":19,"MqttCount":1,"POWER":"OFF","Wifi":{"AP":1,"SSId":"plant","BSSId":"30:23:03:00:00:20","Channel":10,"RSSI":86,"Signal":-57,"LinkCount":1,"Downtime":"0T00:00:05"}}'],
    ['tele/pow-1/LWT', 'Online'],
  ]);
  assert.equal(drops.total(), 0);
  assert.equal(by['pow-1/ENERGY_Power'], 45);
  assert.equal(by['pow-1/ENERGY_Voltage'], 231);
  assert.equal(by['pow-1/ENERGY_Total'], 12.345);
  assert.equal(by['meter-3p/ENERGY_Voltage_0'], 230);
  assert.equal(by['meter-3p/ENERGY_Power_2'], 300);
  assert.equal(by['tank/DS18B20-1_Temperature'], 21.4);
  assert.equal(by['tank/DS18B20-2_Temperature'], 19.9);
  assert.equal(by['pow-1/Wifi_Signal'], -57);
  assert.equal(by['pow-1/UptimeSec'], 810);
  assert.equal(by['pow-1/Time'], undefined, 'the time key is not a reading');
  assert.ok(readings.every((r) => r.ts === Date.UTC(2026, 11, 2, 12)), 'Time is Berlin wall time');
});

test('Shelly Gen2 switch status: nested objects and arrays flatten; ignore_fields leaves out what is not a measurement', () => {
  const status = '{"id":0,"source":"init","output":true,"apower":45.3,"voltage":230.9,"current":0.214,"aenergy":{"total":1043.112,"by_minute":[752.9,753.1,751.6],"minute_ts":1764680400},"temperature":{"tC":43.6,"tF":110.5}}';
  const all = ingest({ topics: ['{device}/status/{metric}'] }, [['shellyplus1pm-a8032ab1/status/switch:0', status]]);
  assert.equal(all.by['shellyplus1pm-a8032ab1/switch:0_apower'], 45.3);
  assert.equal(all.by['shellyplus1pm-a8032ab1/switch:0_temperature_tC'], 43.6);
  assert.equal(all.by['shellyplus1pm-a8032ab1/switch:0_aenergy_by_minute_1'], 753.1);
  assert.equal(all.by['shellyplus1pm-a8032ab1/switch:0_output'], 1, 'a boolean is 1/0');
  assert.equal(all.by['shellyplus1pm-a8032ab1/switch:0_id'], 0);
  const some = ingest({ topics: ['{device}/status/{metric}'], ignore_fields: ['id', 'aenergy_minute_ts', 'temperature'] }, [['shellyplus1pm-a8032ab1/status/switch:0', status]]);
  assert.deepEqual(Object.keys(some.by).sort(), ['apower', 'aenergy_by_minute_0', 'aenergy_by_minute_1', 'aenergy_by_minute_2', 'aenergy_total', 'current', 'output', 'voltage'].map((k) => `shellyplus1pm-a8032ab1/switch:0_${k}`).sort());
});

test('Zigbee2MQTT: a flat sensor with its last_seen time (with a zone) and a nested update object left out', () => {
  const { by, readings } = ingest({ topics: ['zigbee2mqtt/{device}'], ignore_topics: ['zigbee2mqtt/bridge/#', 'zigbee2mqtt/+/set', 'zigbee2mqtt/+/availability'], ts_keys: ['last_seen'], ignore_fields: ['update'] }, [
    ['zigbee2mqtt/kitchen_sensor', '{"battery":97,"humidity":48.1,"linkquality":87,"temperature":21.6,"voltage":3000,"update":{"installed_version":268513281,"latest_version":268513281,"state":"idle"},"update_available":false,"last_seen":"2026-12-02T13:00:00+01:00"}'],
    ['zigbee2mqtt/bridge/state', '{"state":"online"}'],
  ]);
  assert.deepEqual(Object.keys(by).sort(), ['battery', 'humidity', 'linkquality', 'temperature', 'update_available', 'voltage'].map((k) => `kitchen_sensor/${k}`));
  assert.ok(readings.every((r) => r.ts === Date.UTC(2026, 11, 2, 12)));
});

test('nesting has limits: deeper than four levels is counted as ignored, the readings of one message stay under max_fields, and a flattened name too long for a stream is dropped with its name', () => {
  const deep = ingest({ topics: ['s/{device}'] }, [['s/d', '{"a":{"b":{"c":{"d":1,"e":{"f":2}}}}}']]);
  assert.deepEqual(deep.by, { 'd/a_b_c_d': 1 });
  assert.equal(deep.ingest.fieldsIgnored, 1);
  const wide = ingest({ topics: ['s/{device}'], max_fields: 8 }, [['s/d', JSON.stringify({ spectrum: Array.from({ length: 512 }, (_, i) => i) })]]);
  assert.equal(wide.readings.length, 8);
  assert.equal(wide.drops.count('too_many_fields'), 1);
  const long = ingest({ topics: ['s/{device}'] }, [['s/d', JSON.stringify({ ['x'.repeat(40)]: { ['y'.repeat(40)]: 1 }, ok: 2 })]]);
  assert.deepEqual(long.by, { 'd/ok': 2 });
  assert.match(long.drops.samplesFor('bad_name')[0]?.detail ?? '', /does not make a metric name/);
});

test('serial JSON lines flatten the same way', () => {
  const out: Reading[] = [];
  const drops = new DropCounter();
  new JsonLineDecoder('logger', { ts_unit: 'ms', max_fields: 8, ignore_fields: ['meta'] }).decode('{"env":{"temp":21.5,"hum":40},"meta":{"fw":3}}', 0, (r) => out.push(r), drops, 'serial /dev/test');
  assert.deepEqual(out.map((r) => [r.stream, r.value]), [['logger/env_temp', 21.5], ['logger/env_hum', 40]]);
});

test('switch states as firmwares send them are 1/0: ESPHome binary sensors and Tasmota POWER ("ON"/"OFF"), a Zigbee2MQTT plug\'s state, "true"/"false" in a serial line; other words are still not numbers', () => {
  const esphome = ingest({ topics: ['{device}/binary_sensor/{metric}/state', '{device}/sensor/{metric}/state'] }, [
    ['garage/binary_sensor/door/state', 'ON'],
    ['garage/binary_sensor/door/state', 'OFF'],
    ['garage/sensor/temperature/state', '7.3'],
  ]);
  assert.deepEqual(esphome.readings.map((r) => [r.stream, r.value]), [['garage/door', 1], ['garage/door', 0], ['garage/temperature', 7.3]]);
  const tasmota = ingest({ topics: ['stat/{device}/{metric}', 'tele/{device}/STATE'] }, [
    ['stat/pow-1/POWER', 'ON'],
    ['tele/pow-1/STATE', '{"UptimeSec":810,"POWER":"off","SleepMode":"Dynamic"}'],
  ]);
  assert.deepEqual(tasmota.by, { 'pow-1/POWER': 0, 'pow-1/UptimeSec': 810 });
  assert.equal(tasmota.ingest.fieldsIgnored, 1, 'SleepMode "Dynamic" is not a reading');
  const plug = ingest({ topics: ['zigbee2mqtt/{device}'] }, [['zigbee2mqtt/plug_1', '{"state":"ON","power":45.2,"child_lock":"UNLOCK"}']]);
  assert.deepEqual(plug.by, { 'plug_1/state': 1, 'plug_1/power': 45.2 });
  const words = ingest({ topics: ['s/{device}/{metric}'] }, [['s/d/door', 'open'], ['s/d/x', 'onn']]);
  assert.equal(words.readings.length, 0);
  assert.equal(words.drops.count('not_a_number'), 2);
  const out: Reading[] = [];
  const drops = new DropCounter();
  new KvDecoder('relay-board', { ts_unit: 'ms', max_fields: 8 }).decode('relay1=true relay2=False pump=on', 0, (r) => out.push(r), drops, 'serial /dev/test');
  assert.deepEqual(out.map((r) => [r.stream, r.value]), [['relay-board/relay1', 1], ['relay-board/relay2', 0], ['relay-board/pump', 1]]);
});

// The Things Stack (v3) MQTT uplink, every field of its documented "uplink message" format
// (thethingsindustries.com/docs/integrations/data-formats), two gateways heard it.
const TTS_UPLINK = JSON.stringify({
  end_device_ids: { device_id: 'soil-7', application_ids: { application_id: 'farm' }, dev_eui: '0004A30B001C0530', join_eui: '800000000000000C', dev_addr: '00BCB929' },
  correlation_ids: ['as:up:01HEVFC9GQH5WY09QDGG0YW52H', 'gs:conn:01HEVF2X1V7T1Y8ZJQK3M2B7C4', 'gs:uplink:01HEVFC9GQ4W6N2C8D1ZK0R5TA'],
  received_at: '2026-12-03T07:10:00.123456789Z',
  uplink_message: {
    session_key_id: 'AYuwtYLJLlKtcfcN1LDtDQ==',
    f_port: 1,
    f_cnt: 292,
    frm_payload: 'CqEEbxQ=',
    decoded_payload: { temperature: 21.5, humidity: 48, battery: 3.61, valve: 'OPEN' },
    rx_metadata: [
      { gateway_ids: { gateway_id: 'gw-roof', eui: 'AC1F09FFFE057698' }, time: '2026-12-03T07:09:59.912Z', timestamp: 938868292, rssi: -107, channel_rssi: -107, snr: 4.8, location: { latitude: 41.8937, longitude: 12.49399, altitude: 55, source: 'SOURCE_REGISTRY' }, uplink_token: 'CiIKIAoUc3B2LXJvb2Z0b3A=', channel_index: 2, received_at: '2026-12-03T07:10:00.011Z' },
      { gateway_ids: { gateway_id: 'gw-barn', eui: '000000FFFF002001' }, timestamp: 331097515, rssi: -99, channel_rssi: -99, snr: 6.5, uplink_token: 'CiMKIQoVbWF0b3BpYmE=', channel_index: 1, received_at: '2026-12-03T07:10:00.015Z' },
    ],
    settings: { data_rate: { lora: { bandwidth: 125000, spreading_factor: 7, coding_rate: '4/5' } }, frequency: '868300000', timestamp: 938868292 },
    received_at: '2026-12-03T07:10:00.050Z',
    consumed_airtime: '0.061696s',
    network_ids: { net_id: '000013', ns_id: 'EC656E0000000181', tenant_id: 'ttn', cluster_id: 'eu1', cluster_address: 'eu1.cloud.thethings.network' },
  },
});

// ChirpStack v4's MQTT integration, event "up" (chirpstack.io/docs/chirpstack/integrations/events.html).
const CHIRPSTACK_UP = JSON.stringify({
  deduplicationId: '3ac7e3c4-4401-4b8d-9386-a5c902f9202d',
  time: '2026-12-03T07:10:00.500Z',
  deviceInfo: { tenantId: '52f14cd4-c6f1-4fbd-8f87-4025e1d49242', tenantName: 'ChirpStack', applicationId: '17c82e96-be03-4f38-aef3-f83d48582d97', applicationName: 'Test application', deviceProfileName: 'Test device-profile', deviceName: 'Test device', devEui: '0101010101010101', tags: { key: 'value' } },
  devAddr: '00189440',
  dr: 1,
  fPort: 1,
  data: 'qg==',
  rxInfo: [{ gatewayId: '0016c001f153a14c', uplinkId: 4217106255, rssi: -36, snr: 10.5, context: 'E3OWOQ==', metadata: { region_name: 'eu868', region_common_name: 'EU868' } }],
  txInfo: { frequency: 868100000, modulation: { lora: { bandwidth: 125000, spreadingFactor: 11, codeRate: 'CR_4_5' } } },
  object: { temperature: 22.3, humidity: 55, co2: 612 },
});

test('LoRaWAN network servers: values_path takes the decoded payload out of The Things Stack\'s and ChirpStack\'s uplinks, stamped by the server\'s receive time; without it the radio metadata floods in as readings', () => {
  const noisy = ingest({ topics: ['v3/+/devices/{device}/up'] }, [['v3/farm@ttn/devices/soil-7/up', TTS_UPLINK]]);
  assert.equal(noisy.readings.length, 18, "the 3 values and 15 numbers of radio metadata");
  assert.equal(noisy.by['soil-7/uplink_message_rx_metadata_0_rssi'], -107);
  assert.equal(noisy.by['soil-7/uplink_message_network_ids_net_id'], 13, 'an id that looks like a number');

  const tts = ingest({ topics: ['v3/+/devices/{device}/up'], values_path: 'uplink_message.decoded_payload', ts_keys: ['received_at'] }, [['v3/farm@ttn/devices/soil-7/up', TTS_UPLINK]]);
  assert.deepEqual(tts.by, { 'soil-7/temperature': 21.5, 'soil-7/humidity': 48, 'soil-7/battery': 3.61 });
  assert.ok(tts.readings.every((r) => r.ts === Date.parse('2026-12-03T07:10:00.123Z')), 'the top-level received_at');
  assert.equal(tts.ingest.fieldsIgnored, 1, 'valve "OPEN" is not a number');

  const cs = ingest({ topics: ['application/+/device/{device}/event/up'], values_path: 'object', ts_keys: ['time'], ignore_topics: ['application/+/device/+/event/+'] }, [
    ['application/17c82e96-be03-4f38-aef3-f83d48582d97/device/0101010101010101/event/up', CHIRPSTACK_UP],
    ['application/17c82e96-be03-4f38-aef3-f83d48582d97/device/0101010101010101/event/status', '{"margin":7,"batteryLevel":88.5}'],
  ]);
  assert.deepEqual(cs.by, { '0101010101010101/temperature': 22.3, '0101010101010101/humidity': 55, '0101010101010101/co2': 612 });
  assert.ok(cs.readings.every((r) => r.ts === Date.parse('2026-12-03T07:10:00.500Z')));

  const undecoded = ingest({ topics: ['v3/+/devices/{device}/up'], values_path: 'uplink_message.decoded_payload' }, [['v3/farm@ttn/devices/soil-7/up', '{"uplink_message":{"f_port":1,"frm_payload":"CqEEbxQ="}}']]);
  assert.equal(undecoded.readings.length, 0);
  assert.match(undecoded.drops.samplesFor('bad_payload')[0]?.detail ?? '', /no object at values_path "uplink_message\.decoded_payload"/);
});

test('topic levels that hold what a stream name may not (Zigbee2MQTT friendly names with spaces, umlauts) become names with _; a level too long for a name is still dropped with why', () => {
  const { by, drops } = ingest({ topics: ['zigbee2mqtt/{device}'] }, [
    ['zigbee2mqtt/Living Room Sensor', '{"temperature":21.6,"humidity":48}'],
    ['zigbee2mqtt/Küche', '{"temperature":23.1}'],
    [`zigbee2mqtt/${'x'.repeat(70)}`, '{"temperature":1}'],
  ]);
  assert.deepEqual(by, { 'Living_Room_Sensor/temperature': 21.6, 'Living_Room_Sensor/humidity': 48, 'K_che/temperature': 23.1 });
  assert.equal(drops.count('bad_name'), 1);
  assert.match(drops.samplesFor('bad_name')[0]?.detail ?? '', /over 64 characters/);
});

test('serial JSON lines take values_path too: a LoRa receiver on a serial port that prints each uplink as JSON', () => {
  const out: Reading[] = [];
  const drops = new DropCounter();
  const dec = new JsonLineDecoder('lora-rx', { ts_unit: 'ms', max_fields: 8, values_path: 'decoded' });
  dec.decode('{"rssi":-97,"snr":7.5,"ts":1764745200000,"decoded":{"temperature":19.5,"battery":3.3}}', 0, (r) => out.push(r), drops, 'serial /dev/ttyUSB0');
  dec.decode('{"rssi":-99,"snr":6.0}', 0, (r) => out.push(r), drops, 'serial /dev/ttyUSB0');
  assert.deepEqual(out.map((r) => [r.stream, r.value, r.ts]), [['lora-rx/temperature', 19.5, 1764745200000], ['lora-rx/battery', 3.3, 1764745200000]]);
  assert.match(drops.samplesFor('bad_payload')[0]?.detail ?? '', /serial \/dev\/ttyUSB0: no object at values_path "decoded"/);
});
