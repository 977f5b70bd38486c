import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The last password that passed scrypt for each user, kept as an HMAC under a key made at start
 * (never written anywhere), so that a device reconnecting — or a thousand after a gateway restart
 * — costs one HMAC, not one scrypt each. Keyed by the stored hash too: a rotated password_hash
 * forgets the old password. One entry per configured user: bounded by the config.
 */
export class VerifiedPasswords {
  private readonly secret = randomBytes(32);
  private readonly byHash = new Map<string, Buffer>();

  matches(user: { password_hash: string }, password: Buffer | string): boolean {
    const known = this.byHash.get(user.password_hash);
    return known !== undefined && timingSafeEqual(known, this.mac(password));
  }

  remember(user: { password_hash: string }, password: Buffer | string): void {
    this.byHash.set(user.password_hash, this.mac(password));
  }

  /** A key for "this user with this password" that holds no password. */
  key(user: { password_hash: string }, password: Buffer | string): string {
    return `${user.password_hash}\u0000${this.mac(password).toString('base64')}`;
  }

  private mac(password: Buffer | string): Buffer {
    return createHmac('sha256', this.secret).update(password).digest();
  }
}
