/**
 * The "acknowledged means durable" scenario, shared by the npm test (aedes upstream, a few faults)
 * and the system test (Mosquitto upstream, more faults): `edgewise run` as a child process, a QoS 1
 * publisher to its embedded broker (raw forwarding, and 1 s windows with a detector), SIGKILLs of
 * the runtime and outages of the upstream broker while it runs. What arrives upstream is checked
 * against the same input run through the same pipelines without faults.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipelineSchema } from '../../src/config/pipeline.js';
import type { Reading } from '../../src/core/reading.js';
import type { Emission } from '../../src/core/records.js';
import { compilePipeline } from '../../src/compile.js';
import { checkSequences, tempDir } from '../upstream/helpers.js';
import { freePort, startRuntime, waitFor } from './helpers.js';
import { Qos1Publisher } from './qos1-publisher.js';

export interface Upstream {
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Payloads received (any order, duplicates included). */
  payloads(): Array<{ topic: string; payload: Buffer }>;
}

const RAW = { name: 'raw', input: { streams: ['*/raw'] }, steps: [{ output: 'raw' }] };
const WINDOWS = {
  name: 'windows',
  input: { streams: ['*/temp'] },
  steps: [
    { window: { type: 'tumbling', size: '1s', lateness: '200ms', aggregates: ['count', 'mean', 'max'] } },
    { detect: { detector: 'ewma', field: 'mean', output: 'alerts' } },
    { output: 'agg' },
  ],
};

export interface ScenarioOptions {
  kills: number;
  outages: number;
  /** Messages published per second (half raw, half windowed). */
  rate: number;
  devices: number;
  /** `state.checkpoint_min_entries`; the default gate (20,000) when left out: a kill then mostly comes before any checkpoint, and the restart replays the whole journal. */
  checkpointMinEntries?: number;
}

export async function crashScenario(upstream: Upstream, o: ScenarioOptions): Promise<{ published: number; acked: number; upstreamMessages: number; duplicates: number }> {
  const { dir, cleanup } = tempDir('edgewise-crash-');
  const inputPort = await freePort();
  const cfg = join(dir, 'edgewise.yaml');
  writeFileSync(join(dir, 'raw.yaml'), JSON.stringify(RAW));
  writeFileSync(join(dir, 'windows.yaml'), JSON.stringify(WINDOWS));
  writeFileSync(
    cfg,
    `gateway: { id: gw-crash, data_dir: data }
log: { level: info }
inputs:
  - { name: local, type: mqtt, broker: { port: ${inputPort} } }
pipelines: [raw.yaml, windows.yaml]
outbox: { commit_interval: 20ms }
upstream: { url: "${upstream.url}", reconnect_min: 50ms, reconnect_max: 300ms }
state: { checkpoint_interval: 700ms${o.checkpointMinEntries === undefined ? '' : `, checkpoint_min_entries: ${o.checkpointMinEntries}`} }
`,
  );
  let rt: Awaited<ReturnType<typeof startRuntime>> | undefined;
  // Every run's log: a run restarted after a SIGKILL must not take its crashed run for a second gateway with its id.
  const runs: Array<() => string> = [];
  const start = async () => {
    const r = await startRuntime(cfg);
    runs.push(r.output);
    return r;
  };
  const published: Reading[] = [];
  const acked = new Set<number>();
  const pub = new Qos1Publisher(inputPort, 'crash-publisher');
  let timer: NodeJS.Timeout | undefined;
  const faultLog: string[] = [];
  let ok = false;
  try {
    rt = await start();
    await waitFor(() => pub.isConnected, 'the publisher to connect');
    // Publish at `rate`: each message one reading with the device's own clock (one ms apart at least).
    let lastTs = 0;
    const perTick = Math.max(1, Math.round(o.rate / 100));
    timer = setInterval(() => {
      for (let j = 0; j < perTick; j++) {
        const i = published.length;
        const dev = `d${i % o.devices}`;
        const stream = i % 2 === 0 ? `${dev}/raw` : `${dev}/temp`;
        const ts = Math.max(Date.now(), lastTs + 1);
        lastTs = ts;
        const value = Math.round((20 + Math.sin(i / 50) * 5 + (i % 97 === 0 ? 30 : 0)) * 100) / 100;
        published.push({ stream, ts, value });
        pub.publish(`sensors/${stream}`, JSON.stringify({ ts, value }), () => acked.add(i));
      }
    }, 10);
    const faults: Array<'kill' | 'outage'> = [];
    for (let k = 0; k < Math.max(o.kills, o.outages); k++) {
      if (k < o.kills) faults.push('kill');
      if (k < o.outages) faults.push('outage');
    }
    for (let f = 0; f < faults.length; f++) {
      const before = published.length;
      faultLog.push(`${faults[f]} at ${published.length}`);
      await waitFor(() => published.length >= before + o.rate / 2, 'half a second of publishing', 20_000);
      if (faults[f] === 'kill') {
        rt.child.kill('SIGKILL');
        await rt.exited;
        rt = await start();
      } else {
        await upstream.stop();
        const at = published.length;
        await waitFor(() => published.length >= at + o.rate / 3, 'a third of a second of outage', 20_000);
        await upstream.start();
      }
    }
    clearInterval(timer);
    timer = undefined;
    await waitFor(() => acked.size === published.length, () => `every reading acknowledged (${acked.size} of ${published.length})`, 60_000).catch((err) => {
      throw new Error(`${(err as Error).message}\n${rt!.output().slice(-3000)}`);
    });
    // Let the last windows close by time passing, then stop cleanly: the open windows go out as partial.
    rt.child.kill('SIGTERM');
    assert.equal(await rt.exited, 0, rt.output());
    rt = await start(); // drains what the stop left in the outbox
    const expected = reference(published);
    const expectedIds = expected.length + published.filter((r) => r.stream.endsWith('/raw')).length; // aggregates and alerts, and each raw reading
    await waitFor(() => uniqueIds(upstream.payloads()).size >= expectedIds, () => `${expectedIds} distinct records upstream (got ${uniqueIds(upstream.payloads()).size})`, 60_000);
    rt.child.kill('SIGTERM');
    await rt.exited;

    const sameId = runs.map((out) => out()).filter((out) => out.includes('another gateway uses gateway id'));
    assert.deepEqual(sameId.map((out) => out.slice(out.indexOf('another gateway uses gateway id') - 200).slice(0, 600)), [], 'no run took a crashed run for another gateway');
    const msgs = upstream.payloads();
    // No seq gap; a seq always carries the same id; an id always the same record.
    const seqs = checkSequences(msgs.map((m) => ({ ...m, retain: false })));
    assert.deepEqual(seqs.problems, []);
    const byId = new Map<string, string>();
    let duplicates = 0;
    for (const m of msgs) {
      const p = JSON.parse(m.payload.toString());
      const body = JSON.stringify([p.kind, p.stream, p.pipeline, p.output, p.data]);
      const prev = byId.get(p.id);
      if (prev !== undefined) {
        duplicates++;
        assert.equal(body, prev, `id ${p.id} arrived twice with different content`);
      } else byId.set(p.id, body);
    }
    // Every acknowledged reading is upstream: raw ones as themselves, windowed ones counted in a window.
    const got = [...byId.values()].map((b) => JSON.parse(b) as [string, string, string, string, Record<string, unknown>]);
    const rawUp = new Set(got.filter((g) => g[0] === 'reading').map((g) => `${g[1]}@${g[4].ts}=${g[4].value}`));
    const missing = [...acked].filter((i) => published[i]!.stream.endsWith('/raw') && !rawUp.has(`${published[i]!.stream}@${published[i]!.ts}=${published[i]!.value}`));
    assert.deepEqual(
      missing.map((i) => `#${i} ${published[i]!.stream}@${published[i]!.ts}`),
      [],
      `acknowledged readings not upstream (faults: ${faultLog.join(', ')}; data kept in ${dir})`,
    );
    // Aggregates and alerts equal those of the same input without faults.
    const norm = (e: [string, string, string, string, Record<string, unknown>]) => JSON.stringify(e);
    const want = expected.map(norm).sort();
    const have = got.filter((g) => g[0] !== 'reading').map(norm).sort();
    assert.deepEqual(have, want);
    // Each raw reading once (one id): a resent delivery taken twice would show as a second id.
    assert.equal(got.filter((g) => g[0] === 'reading').length, published.filter((r) => r.stream.endsWith('/raw')).length, 'one record per raw reading');
    ok = true;
    return { published: published.length, acked: acked.size, upstreamMessages: msgs.length, duplicates };
  } finally {
    if (timer) clearInterval(timer);
    pub.end();
    if (rt && rt.child.exitCode === null && rt.child.signalCode === null) {
      rt.child.kill('SIGKILL');
      await rt.exited;
    }
    if (ok || !process.env.CRASH_KEEP) cleanup();
  }
}

function uniqueIds(msgs: Array<{ payload: Buffer }>): Set<string> {
  return new Set(msgs.map((m) => JSON.parse(m.payload.toString()).id as string));
}

/** What the windows pipeline sends for this input without faults (aggregates and alerts), as [kind, stream, pipeline, output, data]. */
function reference(input: Reading[]): Array<[string, string, string, string, Record<string, unknown>]> {
  const out: Emission[] = [];
  const p = compilePipeline(pipelineSchema().parse(WINDOWS), (e) => out.push(e));
  for (const r of input) if (r.stream.endsWith('/temp')) p.push(r);
  p.flush(true);
  return out.map((e) => {
    const enc = JSON.parse(JSON.stringify(e)) as Emission;
    if (enc.kind === 'aggregate') {
      const w = enc.result;
      const data: Record<string, unknown> = { window: w.window, start: w.start, end: w.end, count: w.count, values: w.values };
      if (w.partial !== undefined) data.partial = w.partial;
      return ['aggregate', w.stream, 'windows', enc.output, data];
    }
    assert.equal(enc.kind, 'alert');
    const a = (enc as Extract<Emission, { kind: 'alert' }>).alert;
    const data: Record<string, unknown> = { alert_id: a.id, state: a.state, detector: a.detector, severity: a.severity, score: a.score, start: a.start, value: a.value };
    if (a.end !== undefined) data.end = a.end;
    if (a.baseline !== undefined) data.baseline = a.baseline;
    if (a.reason !== undefined) data.reason = a.reason;
    return ['alert', a.stream, 'windows', enc.output, data];
  });
}
