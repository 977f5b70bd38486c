import type { MqttClient } from 'mqtt';
import type { Logger } from '../core/log.js';

/**
 * The rows wait this long at most for an opening step's answer: while nothing else is in flight, a
 * broker that closes the connection on the step is told apart from one that closes it on a record.
 */
const ANSWER_WAIT_MS = 5000;
/** Connections in a row closed while the step awaited its answer before it is given up. */
const CLOSES_TO_GIVE_UP = 2;

/**
 * Sends the step on the connection and calls `answered` with the broker's answer: nothing when it
 * took it, the error when it refused it (a SUBACK or PUBACK failure code). When the connection
 * closes first, `answered` is never called.
 */
export type Send = (client: MqttClient, answered: (refusal?: Error) => void) => void;

/** The subscription step: refused by a SUBACK failure code (0x80 and up: an ACL's refusal). */
export const subscribe =
  (topic: string, qos: 0 | 1): Send =>
  (client, answered) =>
    // mqtt.js calls back with an error and the SUBACK for its failure code, with an error alone when the connection closed first.
    client.subscribe(topic, { qos }, (err, _granted, suback) => {
      if (err && !suback) return;
      answered(err ?? undefined);
    });

/** A QoS 1 publish step: refused by a PUBACK failure code (MQTT 5). */
export const publish =
  (topic: string, payload: () => string, retain: () => boolean): Send =>
  (client, answered) =>
    client.publish(topic, payload(), { qos: 1, retain: retain() }, (err, puback) => {
      if (err && !puback) return;
      answered(err ?? undefined);
    });

/**
 * A step a format takes as each connection opens, before any row: the JSON format's subscription to
 * its own status topic and its status birth, Sparkplug's NCMD subscription. Rows wait for the
 * broker's answer (a SUBACK, a PUBACK). A broker may refuse the step by closing the connection (AWS
 * IoT Core does, for a topic its policy does not allow): since no row is in flight meanwhile, such
 * a close is the step's doing, not a record's — the close probe counts no close without publishes
 * in flight — and after two in a row the step is given up until restart (logged), so it never
 * stops the uplink.
 */
export class OpeningStep {
  private timer: NodeJS.Timeout | undefined;
  private closedPending = 0;
  private off = false;
  /** The last answer refused it; the first refusal is logged, once. */
  private refusedByAnswer = false;
  private refusalLogged = false;
  /** The attempt awaiting its answer on this connection, whose answer or timeout may still act. */
  private current: object | undefined;

  /**
   * `what`: the step, for the log and stats ("subscribe <topic>", "publish <topic>"); `without`:
   * what the gateway cannot do without it.
   */
  constructor(
    readonly what: string,
    private readonly send: Send,
    private readonly without: string,
    private readonly log: Logger,
    private readonly waitMs = ANSWER_WAIT_MS,
  ) {}

  get givenUp(): boolean {
    return this.off;
  }

  /** The broker refused the step (by its last answer, or by closing the connection until it was given up). */
  get refused(): boolean {
    return this.off || this.refusedByAnswer;
  }

  /**
   * Take the step on this new connection, then call `then` once the broker answered (whatever it
   * answered) or after the wait; at once when the step was given up.
   */
  open(client: MqttClient, then: () => void): void {
    if (this.off) {
      then();
      return;
    }
    const attempt = {};
    this.current = attempt;
    const done = () => {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.current = undefined;
      then();
    };
    this.timer = setTimeout(done, this.waitMs);
    this.send(client, (refusal) => {
      if (this.current !== attempt) return;
      this.closedPending = 0;
      this.refusedByAnswer = refusal !== undefined;
      if (refusal && !this.refusalLogged) {
        this.refusalLogged = true;
        this.log.warn({ step: this.what }, `upstream: the broker refused "${this.what}" (${refusal.message}), so ${this.without}`);
      }
      done();
    });
  }

  /**
   * The connection is gone. If it closed while the step awaited its answer, no row was in flight
   * (they wait for it), so the close is the step's doing: two in a row give it up.
   */
  closed(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const pending = this.current !== undefined;
    this.current = undefined;
    if (!pending) {
      this.closedPending = 0;
      return;
    }
    if (++this.closedPending >= CLOSES_TO_GIVE_UP && !this.off) {
      this.off = true;
      this.log.warn(
        { step: this.what },
        `upstream: the broker closed the connection ${CLOSES_TO_GIVE_UP} times in a row as this gateway took the step "${this.what}" (an ACL or policy that refuses it: AWS IoT Core closes the connection): no longer taking it, so ${this.without}. Allow it and restart to have it back`,
      );
    }
  }
}
