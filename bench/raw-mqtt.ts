/**
 * A minimal MQTT 3.1.1 publisher for benchmarks: raw sockets and packets from mqtt-packet, so
 * the publisher costs little and is never the bottleneck being measured.
 */
import mqttPacket from 'mqtt-packet';
import net from 'node:net';

export function connectPacket(clientId: string): Buffer {
  return mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: 60 });
}

/** A QoS 0 PUBLISH. */
export function publishPacket(topic: string, payload: string): Buffer {
  return mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 0, dup: false, retain: false });
}

/** Open `n` connections (client ids `<prefix><i>`), each after its CONNACK. */
export async function openSockets(port: number, n: number, prefix: string): Promise<net.Socket[]> {
  const socks: net.Socket[] = [];
  for (let i = 0; i < n; i++) {
    const s = net.connect({ port, host: '127.0.0.1', noDelay: true });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.once('data', () => resolve()); // CONNACK
      s.write(connectPacket(`${prefix}${i}`));
    });
    s.on('data', () => {});
    socks.push(s);
  }
  return socks;
}

/** A TCP port free on loopback right now. */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}
