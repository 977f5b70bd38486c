import type { MqttClient } from 'mqtt';
import type { Logger } from '../core/log.js';

/**
 * The birth and the rows wait this long at most for the SUBACK: while nothing else has been sent,
 * a broker that closes the connection on the subscription is told apart from one that closes it on
 * a record.
 */
const SUBACK_WAIT_MS = 5000;
/** Connections in a row closed while the subscription awaited its SUBACK before it is given up. */
const CLOSES_TO_GIVE_UP = 2;

/**
 * A subscription a format makes as each connection comes up, before its birth and any row (the
 * JSON format's own status topic, Sparkplug's NCMD). A broker may refuse it by closing the
 * connection (AWS IoT Core does, for a topic its policy does not allow): since nothing else is in
 * flight while the SUBACK is awaited, such a close is the subscription's doing, not a record's, and
 * after two in a row the subscription is given up for good (logged), so it never stops the uplink.
 */
export class FirstSubscription {
  private timer: NodeJS.Timeout | undefined;
  /** The SUBACK of this connection's subscription is awaited. */
  private pending = false;
  private closedPending = 0;
  private off = false;
  /** The last SUBACK refused it; the first refusal is logged, once. */
  private refusedBySuback = false;
  private refusalLogged = false;
  /** The attempt whose SUBACK or timeout may still act (one per connection). */
  private current: object | undefined;

  /** `without`: what the gateway cannot do without the subscription (for the log). */
  constructor(
    readonly topic: string,
    private readonly qos: 0 | 1,
    private readonly without: string,
    private readonly log: Logger,
    private readonly waitMs = SUBACK_WAIT_MS,
  ) {}

  get givenUp(): boolean {
    return this.off;
  }

  /** The broker refused the subscription (by the last SUBACK, or by closing the connection until it was given up). */
  get refused(): boolean {
    return this.off || this.refusedBySuback;
  }

  /**
   * Subscribe on this new connection, then call `then` once its SUBACK came (whatever it granted) or
   * after SUBACK_WAIT_MS; at once when the subscription was given up.
   */
  open(client: MqttClient, then: () => void): void {
    if (this.off) {
      then();
      return;
    }
    const attempt = {};
    this.current = attempt;
    this.pending = true;
    const done = () => {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.pending = false;
      this.current = undefined;
      then();
    };
    this.timer = setTimeout(done, this.waitMs);
    client.subscribe(this.topic, { qos: this.qos }, (err, _granted, suback) => {
      if (this.current !== attempt) return;
      // An error with the SUBACK: its failure code (0x80 and up: an ACL's refusal); an error without
      // one: the connection closed first (mqtt.js calls back then too).
      if (err && !suback) return;
      this.closedPending = 0;
      this.refusedBySuback = !!err;
      if (err && !this.refusalLogged) {
        this.refusalLogged = true;
        const code = suback!.granted.find((c) => typeof c === 'number' && c >= 0x80);
        this.log.warn({ topic: this.topic, code }, `upstream: the broker refused the subscription to ${this.topic} (${err.message}), so ${this.without}`);
      }
      done();
    });
  }

  /**
   * The connection is gone. If it closed while the subscription awaited its SUBACK, nothing else
   * was in flight (the birth and the rows wait for it), so the close is the subscription's doing:
   * the close probe does not count it (no publishes in flight), and two in a row give it up.
   */
  closed(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.current = undefined;
    if (!this.pending) {
      this.closedPending = 0;
      return;
    }
    this.pending = false;
    if (++this.closedPending >= CLOSES_TO_GIVE_UP && !this.off) {
      this.off = true;
      this.log.warn(
        { topic: this.topic },
        `upstream: the broker closed the connection ${CLOSES_TO_GIVE_UP} times in a row as this gateway subscribed to ${this.topic} (an ACL or policy that refuses it: AWS IoT Core closes the connection): no longer subscribing, so ${this.without}. Allow this client to subscribe to ${this.topic} and restart to have it back`,
      );
    }
  }
}
