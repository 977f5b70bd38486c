/** Device and metric names that go into stream keys `<device>/<metric>`. */
export const NAME_RE = /^[A-Za-z0-9_.:-]{1,64}$/;

export function isValidName(s: string): boolean {
  return NAME_RE.test(s);
}

const NOT_IN_NAME = /[^A-Za-z0-9_.:-]/g;

/** A name made from text that may hold other characters (spaces, `/`, `Küche`): each becomes `_`. May still be too long or empty: check with isValidName. */
export function toName(s: string): string {
  return s.replace(NOT_IN_NAME, '_');
}
