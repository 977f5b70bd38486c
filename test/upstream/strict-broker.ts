import mqttPacket from 'mqtt-packet';
import net from 'node:net';

export interface StrictBrokerOptions {
  /** Largest packet taken; a bigger PUBLISH ends the connection (as Mosquitto's `max_packet_size`). */
  maxPacket?: number;
  /** MQTT 5: announce `maxPacket` in the CONNACK (Maximum Packet Size). */
  announce?: boolean;
  /** MQTT 5: before closing on a packet too large, say why (DISCONNECT 0x95), as Mosquitto does. */
  sayWhy?: boolean;
  /**
   * MQTT 5: announce this Receive Maximum and hold to it as the spec says (and HiveMQ does): a QoS 1
   * PUBLISH beyond it, unacknowledged, closes the connection with DISCONNECT 0x93. PUBACKs are then
   * written a millisecond later, as a broker that stores before acknowledging would.
   */
  receiveMaximum?: number;
  /**
   * No retained messages, as Azure Event Grid's MQTT broker was: a retained PUBLISH closes the
   * connection (MQTT 5: DISCONNECT 0x9A); MQTT 5 also announces it (Retain Available 0) and refuses
   * a CONNECT whose Last Will is retained (CONNACK 0x9A).
   */
  noRetain?: boolean;
  /** A PUBLISH on a matching topic closes the connection, as AWS IoT Core does for one its policy refuses. */
  closeOnTopic?: RegExp;
  /**
   * ...this many ms later (a policy is checked asynchronously), taking nothing more meanwhile: what
   * the client sent after that PUBLISH is in flight when the connection closes.
   */
  closeOnTopicAfterMs?: number;
  /** Any SUBSCRIBE closes the connection, as AWS IoT Core does for one its policy refuses. */
  closeOnSubscribe?: boolean;
  /**
   * MQTT 5: announce Maximum QoS 0 and, as the spec says, close the connection on a QoS 1 PUBLISH
   * (DISCONNECT 0x9B, QoS not supported).
   */
  maximumQoS0?: boolean;
  /** MQTT 5: a QoS 1 PUBLISH on a matching topic gets a PUBACK 0x87 (not authorized), as Mosquitto's ACL gives. */
  refuseTopic?: RegExp;
  /** Every CONNECT is answered by closing the connection, without a CONNACK (as Mosquitto does to a 3.1.1 Will over its max_qos). */
  closeOnConnect?: boolean;
  /** Every SUBSCRIBE is refused by its SUBACK (0x80; MQTT 5: 0x87, not authorized), as EMQX and HiveMQ do for one their ACL denies. */
  refuseSubscribe?: boolean;
}

/**
 * An MQTT broker on 127.0.0.1 (mqtt-packet on raw sockets) stricter than aedes 1.x, as real brokers
 * are: while `refusing`, it answers a QoS 1 PUBLISH with a PUBACK carrying a failure reason code
 * (0x87, not authorized; MQTT 5), as Mosquitto does for a publish its ACL denies; with `maxPacket`,
 * a bigger PUBLISH closes the connection (MQTT 3.1.1 and 5). `cutConnections()` ends every session:
 * the client reconnects and resends what it still holds.
 */
export class StrictBroker {
  refusing = false;
  /** Topics of the publishes refused and accepted, in order. */
  readonly refused: string[] = [];
  readonly accepted: Array<{ topic: string; payload: string }> = [];
  /** Status messages taken (topic `.../status`), with their retain flag. */
  readonly statuses: Array<{ state: string; retain: boolean }> = [];
  /** Connections closed on a SUBSCRIBE (`closeOnSubscribe`), and SUBSCRIBEs refused (`refuseSubscribe`). */
  subscribeCloses = 0;
  subscribeRefusals = 0;
  /** Connections closed on a QoS 1 publish (`maximumQoS0`). */
  overQoS = 0;
  /** Connections refused or closed for a retained message (`noRetain`). */
  overRetain = 0;
  /** Connections closed because the client had more than `receiveMaximum` publishes unacknowledged. */
  overReceiveMaximum = 0;
  /** The most QoS 1 publishes unacknowledged at once, over every connection. */
  mostUnacked = 0;
  /** Connections closed on a packet too large, and the size of the last such packet. */
  oversized = 0;
  oversizedBytes = 0;
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();

  constructor(public opts: StrictBrokerOptions = {}) {}

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
    let protocolVersion = 4;
    let closing = false;
    let unacked = 0;
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    const send = (p: mqttPacket.Packet) => sock.write(mqttPacket.generate(p, { protocolVersion }));
    /** End the connection, with a last packet (a refusing CONNACK, an MQTT 5 DISCONNECT) or without a word (a TCP close). */
    const close = (last?: mqttPacket.Packet) => {
      closing = true;
      if (last) sock.end(mqttPacket.generate(last, { protocolVersion }));
      else sock.destroy();
    };
    parser.on('packet', (p) => {
      if (closing) return;
      const { maxPacket, announce, sayWhy, receiveMaximum, noRetain, closeOnTopic } = this.opts;
      if (p.cmd === 'connect') {
        protocolVersion = p.protocolVersion ?? 4;
        if (this.opts.closeOnConnect) return close();
        if (protocolVersion === 5 && noRetain && p.will?.retain) {
          this.overRetain++;
          return close({ cmd: 'connack', returnCode: 0, reasonCode: 0x9a, sessionPresent: false });
        }
        const properties = {
          ...(protocolVersion === 5 && announce && maxPacket ? { maximumPacketSize: maxPacket } : {}),
          ...(protocolVersion === 5 && receiveMaximum ? { receiveMaximum } : {}),
          ...(protocolVersion === 5 && noRetain ? { retainAvailable: false } : {}),
          ...(protocolVersion === 5 && this.opts.maximumQoS0 ? { maximumQoS: 0 } : {}),
        };
        send({ cmd: 'connack', returnCode: 0, reasonCode: 0, sessionPresent: false, ...(Object.keys(properties).length ? { properties } : {}) });
      } else if (p.cmd === 'pingreq') send({ cmd: 'pingresp' });
      else if (p.cmd === 'disconnect') sock.end();
      else if (p.cmd === 'subscribe') {
        if (this.opts.closeOnSubscribe) {
          this.subscribeCloses++;
          close();
        } else {
          const granted = this.opts.refuseSubscribe ? (protocolVersion === 5 ? 0x87 : 0x80) : 0;
          if (granted) this.subscribeRefusals++;
          send({ cmd: 'suback', messageId: p.messageId, granted: p.subscriptions.map(() => granted) });
        }
      }
      else if (p.cmd === 'publish') {
        const bytes = maxPacket ? mqttPacket.generate(p, { protocolVersion }).length : 0;
        if (maxPacket && bytes > maxPacket) {
          this.oversized++;
          this.oversizedBytes = bytes;
          return close(protocolVersion === 5 && sayWhy ? { cmd: 'disconnect', reasonCode: 0x95 } : undefined);
        }
        if (closeOnTopic?.test(p.topic)) {
          if (!this.opts.closeOnTopicAfterMs) return close();
          closing = true;
          setTimeout(() => sock.destroy(), this.opts.closeOnTopicAfterMs);
          return;
        }
        if (this.opts.maximumQoS0 && p.qos > 0) {
          this.overQoS++;
          return close({ cmd: 'disconnect', reasonCode: 0x9b });
        }
        if (noRetain && p.retain) {
          this.overRetain++;
          return close(protocolVersion === 5 ? { cmd: 'disconnect', reasonCode: 0x9a } : undefined);
        }
        const status = p.topic.endsWith('/status');
        if (status) this.statuses.push({ state: (JSON.parse(p.payload.toString()) as { state: string }).state, retain: p.retain });
        const refuse = (this.refusing && !status) || !!this.opts.refuseTopic?.test(p.topic);
        if (!status) {
          if (refuse) this.refused.push(p.topic);
          else this.accepted.push({ topic: p.topic, payload: p.payload.toString() });
        }
        if (p.qos !== 1) return;
        const puback: mqttPacket.Packet = { cmd: 'puback', messageId: p.messageId, ...(protocolVersion === 5 ? { reasonCode: refuse ? 0x87 : 0 } : {}) };
        if (!(protocolVersion === 5 && receiveMaximum)) return void send(puback);
        if (++unacked > receiveMaximum) {
          this.overReceiveMaximum++;
          close({ cmd: 'disconnect', reasonCode: 0x93 });
          return;
        }
        this.mostUnacked = Math.max(this.mostUnacked, unacked);
        setTimeout(() => {
          unacked--;
          if (!closing && !sock.destroyed) send(puback);
        }, 1);
      }
    });
    parser.on('error', () => sock.destroy());
    sock.on('data', (d) => parser.parse(d));
  }
}
