import mqttPacket from 'mqtt-packet';
import net from 'node:net';

/**
 * A device-like MQTT 3.1.1 QoS 1 publisher on a raw socket (mqtt-packet): every message stays in
 * flight until its PUBACK, and after a reconnect what is in flight is sent again, in order, with
 * its packet id and the DUP flag, before anything new, as device firmware does. (mqtt.js 5 lost
 * track of in-flight messages across repeated broker restarts in this test.) TCP_NODELAY set.
 */
export class Qos1Publisher {
  private sock: net.Socket | undefined;
  private connected = false;
  private closed = false;
  private nextId = 1;
  /** In flight, in publish order: packet id → message. */
  private readonly inflight = new Map<number, { topic: string; payload: string; onAck: () => void }>();
  private readonly queue: Array<{ topic: string; payload: string; onAck: () => void }> = [];
  connects = 0;

  constructor(
    private readonly port: number,
    private readonly clientId: string,
    private readonly maxInflight = 1000,
  ) {
    this.open();
  }

  get isConnected(): boolean {
    return this.connected;
  }

  publish(topic: string, payload: string, onAck: () => void): void {
    this.queue.push({ topic, payload, onAck });
    this.pump();
  }

  private open(): void {
    if (this.closed) return;
    const s = net.connect({ port: this.port, host: '127.0.0.1', noDelay: true });
    this.sock = s;
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p) => {
      if (p.cmd === 'connack') {
        this.connected = true;
        this.connects++;
        for (const [id, m] of this.inflight) s.write(mqttPacket.generate({ cmd: 'publish', topic: m.topic, payload: m.payload, qos: 1, messageId: id, dup: true, retain: false }));
        this.pump();
      } else if (p.cmd === 'puback') {
        const m = this.inflight.get(p.messageId!);
        if (m) {
          this.inflight.delete(p.messageId!);
          m.onAck();
          this.pump();
        }
      }
    });
    s.on('data', (d) => parser.parse(d));
    s.on('connect', () => s.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: this.clientId, keepalive: 30 })));
    s.on('error', () => {});
    s.on('close', () => {
      this.connected = false;
      if (!this.closed) setTimeout(() => this.open(), 50);
    });
  }

  private pump(): void {
    const s = this.sock;
    while (this.connected && s && this.queue.length > 0 && this.inflight.size < this.maxInflight) {
      const m = this.queue.shift()!;
      while (this.inflight.has(this.nextId)) this.nextId = (this.nextId % 65535) + 1;
      const id = this.nextId;
      this.nextId = (this.nextId % 65535) + 1;
      this.inflight.set(id, m);
      s.write(mqttPacket.generate({ cmd: 'publish', topic: m.topic, payload: m.payload, qos: 1, messageId: id, dup: false, retain: false }));
    }
  }

  end(): void {
    this.closed = true;
    this.sock?.destroy();
  }
}
