/**
 * Bounds what failed logins cost the embedded broker (issue 17, defect 3):
 *
 * - per address: after `failuresPerAddress` failed password checks the address is blocked for a
 *   back-off that doubles on each block (`backoffMs` … `maxBackoffMs`); a blocked address is
 *   refused without a password check, also when its login was already waiting in the queue (so a
 *   burst of parallel wrong passwords costs `failuresPerAddress` checks). A success from the
 *   address clears its record.
 * - globally: password checks (scrypt, on the libuv thread pool) run `concurrency` at a time, at
 *   most `maxQueued` waiting; beyond that a login is refused at once. A storm from many
 *   addresses therefore uses at most `concurrency` pool threads and never the event loop.
 *
 * The per-address table holds at most `maxAddresses` records (the least recently used go first).
 */
export interface LoginGuardOptions {
  failuresPerAddress: number;
  backoffMs: number;
  maxBackoffMs: number;
  concurrency: number;
  maxQueued: number;
  maxAddresses: number;
}

export const LOGIN_GUARD_DEFAULTS: LoginGuardOptions = {
  failuresPerAddress: 5,
  backoffMs: 1_000,
  maxBackoffMs: 60_000,
  concurrency: 1,
  maxQueued: 16,
  maxAddresses: 4096,
};

interface AddressRecord {
  failures: number;
  running: number;
  blockedUntil: number;
  backoff: number;
}

export type LoginVerdict = 'blocked' | 'busy';

/** A queued login whose address got blocked while it waited: refused without a check. */
export class LoginBlocked extends Error {
  constructor() {
    super('too many failed logins from this address; backing off');
  }
}

export class LoginGuard {
  private readonly byAddress = new Map<string, AddressRecord>();
  private running = 0;
  private readonly queue: Array<() => void> = [];

  constructor(private readonly opts: LoginGuardOptions = LOGIN_GUARD_DEFAULTS, private readonly now: () => number = () => performance.now()) {}

  /**
   * Run the password check `check` for a login from `address`, or say why not: `blocked` (the
   * address is backing off) or `busy` (the global queue is full). `check` resolves true when the
   * password was right. The promise rejects with LoginBlocked when the address got blocked while
   * the login waited.
   */
  attempt(address: string, check: () => Promise<boolean>): Promise<boolean> | LoginVerdict {
    const rec = this.record(address);
    if (this.isBlocked(rec)) return 'blocked';
    if (this.running >= this.opts.concurrency && this.queue.length >= this.opts.maxQueued) return 'busy';
    rec.running++;
    return this.slot().then(async () => {
      try {
        if (this.isBlocked(rec)) throw new LoginBlocked();
        const ok = await check();
        if (ok) this.byAddress.delete(address);
        else rec.failures++;
        return ok;
      } catch (e) {
        if (!(e instanceof LoginBlocked)) rec.failures++;
        throw e;
      } finally {
        rec.running--;
        this.release();
      }
    });
  }

  /** Records held (for tests and counters). */
  get addresses(): number {
    return this.byAddress.size;
  }

  private isBlocked(rec: AddressRecord): boolean {
    const t = this.now();
    if (rec.blockedUntil > t) return true;
    if (rec.failures < this.opts.failuresPerAddress) return false;
    this.block(rec, t);
    return true;
  }

  private block(rec: AddressRecord, t: number): void {
    rec.backoff = rec.backoff === 0 ? this.opts.backoffMs : Math.min(rec.backoff * 2, this.opts.maxBackoffMs);
    rec.blockedUntil = t + rec.backoff;
    rec.failures = 0; // after the back-off the address may try again; the next block lasts twice as long
  }

  private record(address: string): AddressRecord {
    let rec = this.byAddress.get(address);
    if (rec) {
      this.byAddress.delete(address); // re-insert: the map's order is least recently used first
    } else {
      rec = { failures: 0, running: 0, blockedUntil: 0, backoff: 0 };
      if (this.byAddress.size >= this.opts.maxAddresses) {
        for (const [k, r] of this.byAddress) {
          if (r.running === 0) {
            this.byAddress.delete(k);
            break;
          }
        }
      }
    }
    this.byAddress.set(address, rec);
    return rec;
  }

  private slot(): Promise<void> {
    if (this.running < this.opts.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.running--;
  }
}
