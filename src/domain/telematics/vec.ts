/** Small 3-vector helpers for the telematics step (sensor axes, m/s²), and reading saved numbers. */
export type Vec3 = [number, number, number];

export function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

export function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

export function norm(a: Vec3): number {
  return Math.sqrt(dot(a, a));
}

/** The unit vector of `a`, or undefined for a (near) zero vector. */
export function unit(a: Vec3): Vec3 | undefined {
  const n = norm(a);
  return n > 1e-9 ? [a[0] / n, a[1] / n, a[2] / n] : undefined;
}

/** target += k · (toward − target), in place. */
export function moveToward(target: Vec3, toward: Vec3, k: number): void {
  target[0] += k * (toward[0] - target[0]);
  target[1] += k * (toward[1] - target[1]);
  target[2] += k * (toward[2] - target[2]);
}

/** target += k · v, in place. */
export function addScaled(target: Vec3, v: Vec3, k: number): void {
  target[0] += k * v[0];
  target[1] += k * v[1];
  target[2] += k * v[2];
}

/**
 * A number from saved state: JSON turns NaN and ±Infinity into null, which stands for `ifNull`
 * (what the field holds when unset); anything else is damage, refused with the field's name.
 */
export function savedNumber(x: unknown, what: string, ifNull: number): number {
  if (x === null) return ifNull;
  if (typeof x !== 'number') throw new Error(`${what} must be a number, found ${JSON.stringify(x)}`);
  return x;
}

/** `n` numbers from saved state (null stands for NaN, see savedNumber); anything else is refused with the field's name. */
export function savedNumbers(x: unknown, n: number, what: string): number[] {
  if (!Array.isArray(x) || x.length !== n) throw new Error(`${what} must be ${n} numbers, found ${JSON.stringify(x)?.slice(0, 80)}`);
  return x.map((v) => savedNumber(v, what, NaN));
}

/** Three numbers from saved state, as savedNumbers. */
export function savedVec(x: unknown, what: string): Vec3 {
  return savedNumbers(x, 3, what) as Vec3;
}

/** `a` without its component along the unit vector `u`. */
export function reject(a: Vec3, u: Vec3): Vec3 {
  const d = dot(a, u);
  return [a[0] - d * u[0], a[1] - d * u[1], a[2] - d * u[2]];
}


