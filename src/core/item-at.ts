/**
 * `list[i]` where the code knows the item exists (an index it computed, a match group the pattern
 * always has): the item, or a RangeError that says which list and index, instead of a silent
 * `undefined` (or a `list[i]!` that hides the mistake).
 */
export function itemAt<T>(list: ArrayLike<T>, i: number, what: string): T {
  const item = i >= 0 && i < list.length ? list[i] : undefined;
  if (item === undefined) throw new RangeError(`${what}: no item at index ${i} (${list.length} items); this is a bug, please report it`);
  return item;
}
