import type { Conversion } from './spec.js';

/** Unit conversions for `map.convert`. */
export const CONVERT: Record<Conversion, (v: number) => number> = {
  c_to_f: (v) => (v * 9) / 5 + 32,
  f_to_c: (v) => ((v - 32) * 5) / 9,
  c_to_k: (v) => v + 273.15,
  k_to_c: (v) => v - 273.15,
  ms_to_kmh: (v) => v * 3.6,
  kmh_to_ms: (v) => v / 3.6,
  knots_to_kmh: (v) => v * 1.852,
  mph_to_kmh: (v) => v * 1.609344,
  kmh_to_mph: (v) => v / 1.609344,
  g_to_ms2: (v) => v * 9.80665,
  ms2_to_g: (v) => v / 9.80665,
  bar_to_psi: (v) => v * 14.503773773,
  psi_to_bar: (v) => v / 14.503773773,
  kpa_to_bar: (v) => v / 100,
  bar_to_kpa: (v) => v * 100,
};
