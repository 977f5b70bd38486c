import mqtt from 'mqtt';
const sub = await mqtt.connectAsync('mqtt://127.0.0.1:21883', { protocolVersion: 4, clientId: 'sub1', clean: false });
await sub.subscribeAsync('edgewise/v1/+/batch/#', { qos: 1 });
let n = 0; sub.on('message', (t, p, pk) => { n++; if (n < 3) console.log('got', t, p.length, pk.qos, pk.retain); });
const pub = await mqtt.connectAsync('mqtt://127.0.0.1:21883', { protocolVersion: 4, clientId: 'pub1' });
for (let i = 0; i < 5; i++) await pub.publishAsync('edgewise/v1/gw/batch/gzip', Buffer.alloc(100, 1), { qos: 1 });
await pub.publishAsync('edgewise/v1/gw/status', 'x', { qos: 1, retain: true });
await new Promise(r => setTimeout(r, 500));
console.log('n', n);
try { const p5 = await mqtt.connectAsync('mqtt://127.0.0.1:21883', { protocolVersion: 5, clientId: 'v5', connectTimeout: 3000, reconnectPeriod: 0 }); console.log('v5 ok'); p5.end(); } catch (e) { console.log('v5:', e.message); }
await pub.endAsync(); await sub.endAsync();
