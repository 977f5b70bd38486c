/**
 * The one flow every system in the peer comparison runs, written once per system:
 *
 *   MQTT in `sensors/{device}/{metric}` (JSON `{"value": v, "ts": ms}`)
 *   → per sensor: a 10 s tumbling window (event time, aligned to the epoch) with count, mean,
 *     population stddev → one aggregate upstream per window;
 *   → per sensor: a 3σ alert on every reading against an exponentially weighted mean and variance
 *     (alpha 0.02, 50 readings of warm-up, outliers clipped to 3σ before learning: Edgewise's `ewma`
 *     detector), raised on the first anomalous reading, cleared on the first normal one;
 *   → MQTT out (QoS 1) to the upstream broker.
 */
export const WINDOW_MS = 10_000;
export const EWMA = { alpha: 0.02, threshold: 3, warmup: 50 } as const;

/** Edgewise: the pipeline file and the gateway config (embedded broker, or a client of `clientUrl`). */
export function edgewiseFiles(o: { inputPort?: number; clientUrl?: string; upstreamPort: number }): Record<string, string> {
  const input = o.clientUrl
    ? `    mode: client\n    client: { url: "${o.clientUrl}", client_id: edgewise-peers }`
    : `    broker: { port: ${o.inputPort} }`;
  return {
    'flow.yaml': `name: flow
input:
  streams: ["*/*"]
steps:
  - detect: { detector: ewma, alpha: ${EWMA.alpha}, threshold: ${EWMA.threshold}, warmup: ${EWMA.warmup} }
  - window: { type: tumbling, size: ${WINDOW_MS / 1000}s, aggregates: [count, mean, stddev] }
  - output: aggregates
`,
    'edgewise.yaml': `gateway: { id: peers, data_dir: data }
log: { level: info, format: json }
inputs:
  - name: devices
    type: mqtt
    topics: ["sensors/{device}/{metric}"]
${input}
pipelines: [flow.yaml]
outbox: {}
upstream: { url: "mqtt://127.0.0.1:${o.upstreamPort}" }
`,
  };
}

/**
 * Node-RED: the body of the one function node. Per sensor it keeps the open window (Welford's
 * mean and M2) and the EWMA detector, exactly as Edgewise's `ewma`. A window closes when a reading
 * of a later window arrives, or on the 100 ms tick (an inject node) once the wall clock passes its
 * end. Upstream payloads carry the fields the comparison reads from Edgewise's (kind, data.start,
 * data.end, data.count, data.state).
 */
const FUNCTION_BODY = `
const W = ${WINDOW_MS}, A = ${EWMA.alpha}, T = ${EWMA.threshold}, WARM = ${EWMA.warmup};
let st = context.get('st');
if (!st) { st = new Map(); context.set('st', st); }
const out = [];
function flush(s, key) {
  out.push({ topic: 'nodered/aggregate/' + key, payload: { kind: 'aggregate', stream: key,
    data: { start: s.ws, end: s.ws + W, count: s.n, values: { mean: s.m, stddev: Math.sqrt(s.M2 / s.n) } } } });
  s.n = 0;
}
if (msg.topic === 'tick') {
  const now = Date.now();
  for (const [k, s] of st) if (s.n > 0 && s.ws + W <= now) flush(s, k);
  return out.length ? [out] : null;
}
const p = msg.payload;
const v = Number(p && p.value), ts = Number(p && p.ts);
if (!Number.isFinite(v) || !Number.isFinite(ts)) { node.warn('bad payload on ' + msg.topic); return null; }
const key = msg.topic.slice(8);
let s = st.get(key);
if (!s) { s = { ws: 0, n: 0, m: 0, M2: 0, en: 0, em: 0, ev: 0, active: false }; st.set(key, s); }
const ws = ts - (ts % W);
if (s.n > 0 && ws > s.ws) flush(s, key);
if (s.n === 0) { s.ws = ws; s.m = 0; s.M2 = 0; }
s.n++;
const d = v - s.m;
s.m += d / s.n;
s.M2 += d * (v - s.m);
if (s.en === 0) { s.em = v; s.ev = 0; }
const sd = Math.max(Math.sqrt(s.ev), 1e-9 + 1e-9 * Math.abs(s.em));
const z = (v - s.em) / sd;
const anomalous = s.en >= WARM && Math.abs(z) >= T;
if (anomalous && !s.active) {
  s.active = true;
  out.push({ topic: 'nodered/alert/' + key, payload: { kind: 'alert', stream: key, data: { state: 'raised', start: ts, value: v } } });
} else if (!anomalous && s.active) {
  s.active = false;
  out.push({ topic: 'nodered/alert/' + key, payload: { kind: 'alert', stream: key, data: { state: 'cleared', end: ts, value: v } } });
}
let x = v;
if (s.en >= WARM) { const lim = T * sd; if (x > s.em + lim) x = s.em + lim; else if (x < s.em - lim) x = s.em - lim; }
const a = s.en < WARM ? Math.max(A, 1 / (s.en + 1)) : A;
const diff = x - s.em, incr = a * diff;
s.em += incr;
s.ev = (1 - a) * (s.ev + diff * incr);
s.en++;
return out.length ? [out] : null;
`;

/** Node-RED: flows.json and settings.js (editor and HTTP nodes off, memory context). */
export function nodeRedFiles(o: { inputPort: number; upstreamPort: number; uiPort: number }): Record<string, string> {
  const broker = (id: string, name: string, port: number) => ({
    id, type: 'mqtt-broker', name, broker: '127.0.0.1', port: String(port), clientid: '', autoConnect: true, usetls: false,
    protocolVersion: '4', keepalive: '60', cleansession: true, autoUnsubscribe: true,
  });
  const flow = [
    { id: 'f0000001', type: 'tab', label: 'peers' },
    // Ids are unlike any property value: Node-RED reads a value equal to a node id as a reference.
    broker('b0000001', 'sensors broker', o.inputPort),
    broker('b0000002', 'upstream broker', o.upstreamPort),
    { id: 'n0000001', type: 'mqtt in', z: 'f0000001', name: 'sensors', topic: 'sensors/+/+', qos: '0', datatype: 'json', broker: 'b0000001', nl: false, rap: false, rh: 0, inputs: 0, wires: [['n0000003']] },
    { id: 'n0000002', type: 'inject', z: 'f0000001', name: 'tick', props: [{ p: 'topic', vt: 'str' }], topic: 'tick', repeat: '0.1', once: true, onceDelay: '0.1', wires: [['n0000003']] },
    { id: 'n0000003', type: 'function', z: 'f0000001', name: 'window + 3σ', func: FUNCTION_BODY, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], wires: [['n0000004']] },
    { id: 'n0000004', type: 'mqtt out', z: 'f0000001', name: 'upstream', topic: '', qos: '1', retain: 'false', broker: 'b0000002', wires: [] },
  ];
  return {
    'flows.json': JSON.stringify(flow, null, 1),
    'settings.js': `module.exports = {
  flowFile: 'flows.json',
  uiHost: '127.0.0.1',
  uiPort: ${o.uiPort},
  httpAdminRoot: false,
  httpNodeRoot: false,
  credentialSecret: false,
  logging: { console: { level: 'info', metrics: false, audit: false } },
};
`,
  };
}
