import mqttPacket from 'mqtt-packet';
import net from 'node:net';

/**
 * An MQTT 5 broker on 127.0.0.1 (mqtt-packet on raw sockets) that answers a QoS 1 PUBLISH with a
 * PUBACK carrying a failure reason code (0x87, not authorized) while `refusing`, as Mosquitto
 * does for a publish its ACL denies. aedes 1.x speaks MQTT 3.1.1 only and has no such PUBACK.
 * `cutConnections()` ends every session: the client reconnects and resends what it still holds.
 */
export class RefusingBroker {
  refusing = true;
  /** Topics of the publishes refused and accepted, in order. */
  readonly refused: string[] = [];
  readonly accepted: Array<{ topic: string; payload: string }> = [];
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();

  async start(): Promise<void> {
    const server = net.createServer({ noDelay: true }, (sock) => this.serve(sock));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.server = server;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${(this.server!.address() as net.AddressInfo).port}`;
  }

  cutConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.cutConnections();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  private serve(sock: net.Socket): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => {});
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    const send = (p: mqttPacket.Packet) => sock.write(mqttPacket.generate(p, { protocolVersion: 5 }));
    parser.on('packet', (p) => {
      if (p.cmd === 'connect') send({ cmd: 'connack', returnCode: 0, reasonCode: 0, sessionPresent: false });
      else if (p.cmd === 'pingreq') send({ cmd: 'pingresp' });
      else if (p.cmd === 'disconnect') sock.end();
      else if (p.cmd === 'publish') {
        const status = p.topic.endsWith('/status');
        const refuse = this.refusing && !status;
        if (!status) {
          if (refuse) this.refused.push(p.topic);
          else this.accepted.push({ topic: p.topic, payload: p.payload.toString() });
        }
        if (p.qos === 1) send({ cmd: 'puback', messageId: p.messageId, reasonCode: refuse ? 0x87 : 0 });
      }
    });
    parser.on('error', () => sock.destroy());
    sock.on('data', (d) => parser.parse(d));
  }
}
