import type { IClientOptions, MqttClient } from 'mqtt';
import type { OutboxKey, OutboxRow } from '../outbox/index.js';
import { messageTopic, PAYLOAD_SCHEMA_VERSION, statusTopic } from '../core/payload.js';

/** One MQTT publish. */
export interface Publish {
  topic: string;
  payload: Buffer;
}

/**
 * What goes on the wire, apart from the forwarder's lanes and acknowledgements: the Last Will, what
 * is said when a connection comes up and before a clean stop, and how an outbox row becomes a
 * publish. The outbox always holds the JSON payload (payload.ts); a format translates it when sent.
 */
export interface UplinkFormat {
  /** The Last Will of a new connection (called once per connection attempt, before connecting). */
  will(): NonNullable<IClientOptions['will']>;
  /** A connection came up: publish what must come before any row (birth), then call `ready` (rows may go). */
  online(client: MqttClient, ready: () => void): void;
  /**
   * The publish for one row, sent at QoS 1 and acknowledged to the outbox on PUBACK. `historical`:
   * the row was buffered before this connection came up (drained after an outage or a restart).
   * Throws when the row cannot be encoded (the forwarder counts and logs it, and drops the row).
   */
  encode(row: OutboxRow, key: OutboxKey, historical: boolean): Publish;
  /** Before a clean disconnect: the goodbye, at QoS 1; `done` once it is acknowledged. */
  offline(client: MqttClient, done: () => void): void;
  /** The connection is gone (lost or stopped). */
  closed(): void;
}

export interface StatusWatch {
  /** This process's instance, in every status message. */
  readonly instance: string;
  /** Subscribe to the gateway's own status topic on this connection (before the birth)? */
  readonly watching: boolean;
  subscribing(): void;
  /** Its SUBACK came (whatever it granted). */
  subscribed(): void;
  /** No SUBACK within SUBACK_WAIT_MS: the birth and the rows go without waiting longer. */
  gaveUp(): void;
  /** A message on the gateway's own status topic. */
  seen(payload: Buffer, retained: boolean): void;
}

/**
 * The birth and the rows wait this long at most for the SUBACK of the status subscription: while
 * nothing else has been sent, a broker that closes the connection on it is told apart from one
 * that closes it on a record.
 */
const SUBACK_WAIT_MS = 5000;

/** The Edgewise JSON format: rows as they are, on `<prefix>/<gateway>/<kind>/<stream>`; retained status. */
export function jsonFormat(prefix: string, gateway: string, watch?: StatusWatch, retain: () => boolean = () => true): UplinkFormat {
  const status = statusTopic(prefix, gateway);
  const instance = watch ? { instance: watch.instance } : {};
  const statusPayload = (state: 'online' | 'offline', since?: number) =>
    JSON.stringify({ schema: PAYLOAD_SCHEMA_VERSION, gateway, state, ...(since === undefined ? {} : { since }), ...instance });
  let subackTimer: NodeJS.Timeout | undefined;
  return {
    will: () => ({ topic: status, payload: Buffer.from(statusPayload('offline')), qos: 1, retain: retain() }),
    online: (client, ready) => {
      const birth = () => {
        client.publish(status, statusPayload('online', Date.now()), { qos: 1, retain: retain() }, () => {});
        ready();
      };
      if (!watch?.watching) return birth();
      client.on('message', (topic, payload, packet) => {
        if (topic === status) watch.seen(payload, packet.retain);
      });
      // Before the birth: the retained status it brings is what was there before this connection.
      // A SUBACK refusing it only leaves the watch blind.
      watch.subscribing();
      subackTimer = setTimeout(() => {
        subackTimer = undefined;
        watch.gaveUp();
        birth();
      }, SUBACK_WAIT_MS);
      client.subscribe(status, { qos: 0 }, (err) => {
        if (err || !subackTimer) return; // an error: the connection closed first (mqtt.js calls back then too)
        clearTimeout(subackTimer);
        subackTimer = undefined;
        watch.subscribed();
        birth();
      });
    },
    encode: (row, key) => ({ topic: messageTopic(prefix, gateway, key.kind, key.stream), payload: row.payload }),
    offline: (client, done) => client.publish(status, statusPayload('offline', Date.now()), { qos: 1, retain: retain() }, () => done()),
    closed: () => {
      clearTimeout(subackTimer);
      subackTimer = undefined;
    },
  };
}
