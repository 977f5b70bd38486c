/** Device and metric names that go into stream keys `<device>/<metric>`. */
export const NAME_RE = /^[A-Za-z0-9_.:-]{1,64}$/;

export function isValidName(s: string): boolean {
  return NAME_RE.test(s);
}
