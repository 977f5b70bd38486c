/** Device and metric names that go into stream keys `<device>/<metric>`. */
export const NAME_RE = /^[A-Za-z0-9_.:-]{1,64}$/;

export function isValidName(s: string): boolean {
  return NAME_RE.test(s);
}

/** Glob over stream keys: `*` matches within one segment (no `/`), `**` matches anything. */
export function compileGlob(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
