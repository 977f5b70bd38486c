/**
 * A broker that refuses the connection, or takes only QoS 0: the gateway names the setting to
 * change and sends nothing it would close the connection on.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connackAdvice } from '../../src/upstream/connack.js';
import { waitFor } from '../runtime/helpers.js';
import { FAST_RECONNECT, forwarderFor, raw, warnings } from './helpers.js';
import { StrictBroker } from './strict-broker.js';

test('connackAdvice: a CONNACK code (3.1.1 return code or MQTT 5 reason code) names what to change', () => {
  assert.match(connackAdvice(4)!, /upstream\.username and upstream\.password/);
  assert.match(connackAdvice(0x86)!, /upstream\.username and upstream\.password/);
  assert.match(connackAdvice(1)!, /upstream\.protocol_version/);
  assert.match(connackAdvice(0x85)!, /upstream\.client_id/);
  assert.match(connackAdvice(0x9b)!, /max_qos 0/);
  assert.equal(connackAdvice(0), undefined);
  assert.equal(connackAdvice('ECONNREFUSED'), undefined, 'a socket error is not a CONNACK');
});

test('an MQTT 5 broker announcing Maximum QoS 0: nothing is published (each QoS 1 publish would close the connection), an error says why and what to do, and the gateway tries again', async (t) => {
  const broker = new StrictBroker({ maximumQoS0: true });
  await broker.start();
  const { log, lines } = warnings();
  const { outbox, fwd } = forwarderFor(t, broker, { ...FAST_RECONNECT, protocol_version: 5 }, log);
  for (let i = 1; i <= 10; i++) outbox.put(raw('dev1/x', i));
  outbox.flush();
  await fwd.start();
  await waitFor(() => fwd.stats().connects >= 3, () => `three connections (${fwd.stats().connects})`);
  assert.equal(broker.overQoS, 0, 'no QoS 1 publish reached the broker');
  assert.equal(broker.accepted.length + broker.statuses.length, 0);
  assert.equal(outbox.depth(), 10, 'the records wait in the outbox');
  assert.equal(fwd.stats().quarantined, 0);
  assert.match(fwd.stats().lastError ?? '', /QoS 0 only/);
  assert.match(lines.find((l) => l.includes('QoS 0 only')) ?? '', /max_qos 0.*allow QoS 1 there\. Not publishing/);
});

test('a broker that closes the connection before its CONNACK, without a word: counted, in lastError, and logged once a minute with the likely causes', async (t) => {
  const broker = new StrictBroker({ closeOnConnect: true });
  await broker.start();
  const { log, lines } = warnings();
  const { fwd } = forwarderFor(t, broker, FAST_RECONNECT, log);
  await fwd.start();
  await waitFor(() => fwd.stats().noConnack >= 3, () => `three attempts counted (${fwd.stats().noConnack}, ${fwd.stats().disconnects} disconnects)`);
  assert.equal(fwd.stats().lastError, 'the broker closed the connection before accepting it (no CONNACK)');
  const said = lines.filter((l) => l.includes('closed the connection before accepting it'));
  assert.equal(said.length, 1);
  assert.match(said[0]!, /TLS port reached without TLS.*max_qos below 1.*connection limit/);
});

