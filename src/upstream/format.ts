import type { IClientOptions, MqttClient } from 'mqtt';
import type { OutboxKey, OutboxRow } from '../outbox/index.js';
import type { Logger } from '../core/log.js';
import { FirstSubscription } from './first-subscription.js';
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
  /** The topic of the format's own subscription (status watch, NCMD) if the broker refused it; the gateway works without it. */
  refusedSubscription(): string | undefined;
}

export interface StatusWatch {
  /** This process's instance, in every status message. */
  readonly instance: string;
  /** A message on the gateway's own status topic. */
  seen(payload: Buffer, retained: boolean): void;
}

/**
 * The Edgewise JSON format: rows as they are, on `<prefix>/<gateway>/<kind>/<stream>`; retained
 * status. With a `watch`, the gateway reads its own status topic (subscribed before the birth: the
 * retained status it brings is what was there before this connection).
 */
export function jsonFormat(prefix: string, gateway: string, o: { watch?: StatusWatch; retain?: () => boolean; log: Logger }): UplinkFormat {
  const { watch, retain = () => true } = o;
  const status = statusTopic(prefix, gateway);
  const instance = watch ? { instance: watch.instance } : {};
  const statusPayload = (state: 'online' | 'offline', since?: number) =>
    JSON.stringify({ schema: PAYLOAD_SCHEMA_VERSION, gateway, state, ...(since === undefined ? {} : { since }), ...instance });
  const subscription = watch && new FirstSubscription(status, 0, 'another gateway with this id will show only by MQTT 5\'s reason 0x8E', o.log);
  return {
    will: () => ({ topic: status, payload: Buffer.from(statusPayload('offline')), qos: 1, retain: retain() }),
    online: (client, ready) => {
      const birth = () => {
        client.publish(status, statusPayload('online', Date.now()), { qos: 1, retain: retain() }, () => {});
        ready();
      };
      if (!subscription || subscription.givenUp) return birth();
      client.on('message', (topic, payload, packet) => {
        if (topic === status) watch!.seen(payload, packet.retain);
      });
      subscription.open(client, birth);
    },
    encode: (row, key) => ({ topic: messageTopic(prefix, gateway, key.kind, key.stream), payload: row.payload }),
    offline: (client, done) => client.publish(status, statusPayload('offline', Date.now()), { qos: 1, retain: retain() }, () => done()),
    closed: () => subscription?.closed(),
    refusedSubscription: () => (subscription?.refused ? subscription.topic : undefined),
  };
}
