import { randomBytes } from 'node:crypto';

/**
 * Two gateways with the same id (a cloned SD card, a fleet variable never set) share a client id
 * and a status topic: the broker closes one's connection whenever the other connects, both flap,
 * and their records interleave on the same topics with clashing seqs. Nothing on the wire says so
 * in MQTT 3.1.1, so each forwarder process puts a random `instance` in its status messages, reads
 * its own status topic, and judges what it sees there.
 */
export class SameIdWatch {
  /** This process's instance (a new one at every start). */
  readonly instance = randomBytes(8).toString('hex');
  private connects = 0;

  /** `onOther` is told of each sign of another gateway with this id (the other's instance). */
  constructor(private readonly onOther: (other: string) => void = () => {}) {}

  /** A connection came up (its status subscription is sent before the birth). */
  connected(): void {
    this.connects++;
  }

  seen(payload: Buffer, retained: boolean): void {
    const other = this.judge(payload, retained);
    if (other) this.onOther(other);
  }

  /**
   * A status message on this gateway's topic. Returns the other instance when it shows that
   * another gateway uses this id: an `online` published while this one is connected; a retained
   * `online` (another client id, or the broker would have closed it when this one connected); or,
   * at a reconnect, another instance's `offline` (it was connected between this process's two
   * connections). At a first connection another instance's `offline` is this gateway's previous run
   * — retained, or published just now by a broker that closes a crashed run's session only when
   * this one connects.
   */
  judge(payload: Buffer, retained: boolean): string | undefined {
    let status: { instance?: unknown; state?: unknown };
    try {
      status = JSON.parse(payload.toString()) as typeof status;
    } catch {
      return undefined;
    }
    const other = typeof status?.instance === 'string' ? status.instance : undefined;
    if (!other || other === this.instance) return undefined;
    if (status.state === 'online' || (retained && this.connects > 1)) return other;
    return undefined;
  }
}
