// The floor for a client of Mosquitto: mqtt.js subscribes to the sensor topics and parses every
// payload (JSON.parse), nothing else. Plain JavaScript, run with plain node (no loader).
// argv: <broker port>. IPC: sends {subscribed} once subscribed, answers {cmd:'count'} with {count}.
import mqtt from 'mqtt';

const client = mqtt.connect(`mqtt://127.0.0.1:${process.argv[2]}`, { clientId: 'bare-subscriber', clean: true, reconnectPeriod: 0 });
let count = 0;
let bad = 0;
client.on('connect', () => {
  client.stream.setNoDelay?.(true);
  client.subscribe('sensors/+/+', { qos: 0 }, (err) => process.send({ subscribed: !err, err: err?.message }));
});
client.on('message', (_topic, payload) => {
  const p = JSON.parse(payload.toString());
  if (typeof p.value === 'number') count++;
  else bad++;
});
client.on('error', (e) => console.error(`bare subscriber: ${e.message}`));
process.on('message', (m) => {
  if (m?.cmd === 'count') process.send({ count, bad });
});
process.on('SIGTERM', () => client.end(true, {}, () => process.exit(0)));
