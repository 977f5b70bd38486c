/**
 * A Reading is one numeric sample from one sensor stream. Drivers produce them; nothing
 * downstream knows which driver a reading came from.
 */
export interface Reading {
  /** Stream key, `<device>/<metric>`, e.g. `pump-1/vibration_rms`. The device is the part before the first `/`. */
  stream: string;
  /** Event time: milliseconds since the Unix epoch (UTC), taken from the device or the driver. */
  ts: number;
  /**
   * Arrival time: the gateway clock (ms since the epoch) when the reading reached the gateway,
   * stamped by the gateway. Idleness and the far-future check use it; absent in a replay.
   */
  arrival?: number;
  /** The numeric value. Non-finite values are refused by the engine (counted, never crash). */
  value: number;
  /** Optional extra fields that travel with the reading (e.g. GPS fix quality). */
  fields?: Record<string, number | string | boolean>;
  /** Optional tags (e.g. unit, site). */
  tags?: Record<string, string>;
}


export function deviceOf(stream: string): string {
  const i = stream.indexOf('/');
  return i < 0 ? stream : stream.slice(0, i);
}

export function metricOf(stream: string): string {
  const i = stream.indexOf('/');
  return i < 0 ? '' : stream.slice(i + 1);
}
