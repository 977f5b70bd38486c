import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashes for the embedded broker's users, made with node's `crypto.scrypt`.
 *
 * Format (one string, `$`-separated, base64 without padding):
 *
 *     scrypt$<N>$<r>$<p>$<salt>$<hash>
 *
 * e.g. `scrypt$16384$8$1$3q2+7w...$Yk8...`. N (cost, a power of two), r (block size) and p
 * (parallelism) are stored with each hash so they can be raised later without breaking old
 * hashes. The salt is 16 random bytes, the hash 32 bytes.
 */
const HASH_PREFIX = 'scrypt';
const DEFAULTS = { N: 16384, r: 8, p: 1, saltBytes: 16, keyBytes: 32 };

function scryptAsync(password: string | Buffer, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

function maxmem(N: number, r: number, p: number): number {
  return 128 * N * r * p + 1024 * 1024 * 2;
}

/** Hash a password for `users[].password_hash` (this is what `edgewise hash-password` prints). */
export async function hashPassword(password: string, opts: { N?: number; r?: number; p?: number } = {}): Promise<string> {
  const N = opts.N ?? DEFAULTS.N;
  const r = opts.r ?? DEFAULTS.r;
  const p = opts.p ?? DEFAULTS.p;
  const salt = randomBytes(DEFAULTS.saltBytes);
  const key = await scryptAsync(password, salt, DEFAULTS.keyBytes, { N, r, p, maxmem: maxmem(N, r, p) });
  return [HASH_PREFIX, N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

/** Parse a stored hash; returns an error text (for config validation) or the parts. */
export function parseHash(hash: string): ParsedHash | string {
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== HASH_PREFIX) return 'expected scrypt$N$r$p$salt$hash (make one with `edgewise hash-password`)';
  const [, nText, rText, pText, salt64 = '', key64 = ''] = parts;
  const [N, r, p] = [Number(nText), Number(rText), Number(pText)];
  if (!Number.isInteger(N) || N < 2 || (N & (N - 1)) !== 0 || N > 2 ** 20) return 'N must be a power of two between 2 and 2^20';
  if (!Number.isInteger(r) || r < 1 || r > 32 || !Number.isInteger(p) || p < 1 || p > 16) return 'r must be 1..32 and p 1..16';
  const salt = Buffer.from(salt64, 'base64url');
  const key = Buffer.from(key64, 'base64url');
  if (salt.length < 8 || key.length < 16) return 'salt or hash too short';
  return { N, r, p, salt, key };
}

/** Check a password against a stored hash, in constant time. False for malformed hashes. */
export async function verifyPassword(password: string | Buffer, hash: string): Promise<boolean> {
  const h = parseHash(hash);
  if (typeof h === 'string') return false;
  try {
    const key = await scryptAsync(password, h.salt, h.key.length, { N: h.N, r: h.r, p: h.p, maxmem: maxmem(h.N, h.r, h.p) });
    return timingSafeEqual(key, h.key);
  } catch {
    return false;
  }
}
