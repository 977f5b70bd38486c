/**
 * One JSON object from a line or a message. Every reader of JSON objects (MQTT payloads, serial
 * JSON lines, recorded JSON-lines files) refuses the same input the same way: the caller drops it
 * as `bad_payload` with this detail.
 */
export type JsonObjectResult = { ok: true; obj: Record<string, unknown> } | { ok: false; detail: string };

export function parseJsonObject(text: string): JsonObjectResult {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { ok: false, detail: `not valid JSON (${(e as Error).message})` };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    return { ok: false, detail: `expected a JSON object, found ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}` };
  }
  return { ok: true, obj: v as Record<string, unknown> };
}
