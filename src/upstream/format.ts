import type { IClientOptions, MqttClient } from 'mqtt';
import type { OutboxKey, OutboxRow } from '../outbox/index.js';
import type { Logger } from '../core/log.js';
import { OpeningStep, publish, subscribe } from './opening.js';
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
  /** The opening steps (opening.ts) the broker refused, e.g. "publish <topic>"; the gateway works without them. */
  refused(): string[];
}

export interface StatusWatch {
  /** This process's instance, in every status message. */
  readonly instance: string;
  /** A message on the gateway's own status topic. */
  seen(payload: Buffer, retained: boolean): void;
}

/**
 * The Edgewise JSON format: rows as they are, on `<prefix>/<gateway>/<kind>/<stream>`; retained
 * status. As a connection opens: with a `watch`, the subscription to its own status topic (before
 * the birth: the retained status it brings is what was there before this connection), then the
 * birth; the rows wait for the broker's answer to each (opening.ts).
 */
export function jsonFormat(prefix: string, gateway: string, o: { watch?: StatusWatch; retain?: () => boolean; log: Logger }): UplinkFormat {
  const { watch, retain = () => true } = o;
  const status = statusTopic(prefix, gateway);
  const instance = watch ? { instance: watch.instance } : {};
  const statusPayload = (state: 'online' | 'offline', since?: number) =>
    JSON.stringify({ schema: PAYLOAD_SCHEMA_VERSION, gateway, state, ...(since === undefined ? {} : { since }), ...instance });
  const watching = watch && new OpeningStep(`subscribe ${status}`, subscribe(status, 0), "another gateway with this id will show only by MQTT 5's reason 0x8E", o.log);
  const birth = new OpeningStep(`publish ${status}`, publish(status, () => statusPayload('online', Date.now()), retain), 'consumers do not see this gateway come online (its Last Will still says offline when it goes)', o.log);
  const steps = watching ? [watching, birth] : [birth];
  return {
    will: () => ({ topic: status, payload: Buffer.from(statusPayload('offline')), qos: 1, retain: retain() }),
    online: (client, ready) => {
      if (watching && !watching.givenUp) {
        client.on('message', (topic, payload, packet) => {
          if (topic === status) watch?.seen(payload, packet.retain);
        });
      }
      const take = (i: number): void => (i < steps.length ? steps[i]!.open(client, () => take(i + 1)) : ready());
      take(0);
    },
    encode: (row, key) => ({ topic: messageTopic(prefix, gateway, key.kind, key.stream), payload: row.payload }),
    offline: (client, done) => {
      if (birth.givenUp) return done();
      client.publish(status, statusPayload('offline', Date.now()), { qos: 1, retain: retain() }, () => done());
    },
    closed: () => {
      for (const s of steps) s.closed();
    },
    refused: () => steps.filter((s) => s.refused).map((s) => s.what),
  };
}
