import fc from 'fast-check';

/** Text that breaks parsers: any UTF-16 (lone surrogates, NUL, controls), separators, very long runs. */
export function hostileText(maxLength: number): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength }) },
    { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom('=', ',', ' ', '"', '{', '}', '[', ']', ':', '\\', '\u0000', '\r', '\t', '$', '*', '/', '+', '#', 'a', '1', '.', '-', 'e'), maxLength }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength }) },
  );
}

/** Numbers as devices write them, and as they should not. */
export const numberText: fc.Arbitrary<string> = fc.oneof(
  fc.double().map(String),
  fc.integer().map(String),
  fc.constantFrom('1e20', '-1e20', '1e309', '-0', 'NaN', 'Infinity', '-Infinity', '0x10', '1_000', ' 1 ', '1,5', '.5', '5.', '+3', '--1', '1e', '١٢', '0b1', ''),
);

/** Timestamps: plausible, edge of the Date range (±8.64e15 ms), beyond it, and malformed. */
export const timestampValue: fc.Arbitrary<number | string> = fc.oneof(
  fc.integer({ min: 0, max: 4_102_444_800_000 }),
  fc.double(),
  fc.constantFrom(1e20, -1e20, 8.64e15, 8.64e15 + 1, -8.64e15, 2 ** 53, 1.7e9, 0, -1),
  fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('2024-03-01T12:00:00', '2024-13-01T00:00:00Z', '2024-02-30', '+275760-09-13T00:00:00.001Z', '1e20', 'yesterday', '2024-03-01T12:00:00+25:00', ''),
);
