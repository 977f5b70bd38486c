/** Decoding what a Sparkplug B edge node published, and checking the specification's order rules on it. */
import { decodeSparkplugPayload } from '../../src/upstream/sparkplug/encode.js';

export interface SpMetric {
  /** The name, also for a metric sent by alias (resolved from the births). */
  name: string;
  alias?: number;
  type: string;
  value: unknown;
  timestamp?: number;
  historical: boolean;
  props: Record<string, unknown>;
}

export interface SpMessage {
  type: string;
  group: string;
  node: string;
  device?: string;
  seq?: number;
  metrics: SpMetric[];
}

const num = (v: unknown) => (v && typeof v === 'object' && 'toNumber' in v ? (v as { toNumber(): number }).toNumber() : v);

/**
 * A decoding Sparkplug host: decodes each publish on spBv1.0/<group>/<type>/<node>[/<device>]
 * (undefined for other topics), learning metric aliases from NBIRTH/DBIRTH and resolving them in
 * DDATA (an unknown alias becomes the name `?alias:<n>`).
 * A broker's redelivery (the MQTT DUP flag, the same topic and bytes as one of the last 1,000
 * received) is QoS 1's at least once between broker and host, not the node's order: it is counted
 * in `redeliveries` and gives undefined. Mosquitto resends what the host had not acknowledged when
 * it stopped, after its restart.
 */
export class SparkplugHost {
  private readonly aliases = new Map<string, Map<number, string>>();
  private readonly recent: string[] = [];
  redeliveries = 0;

  decode(topic: string, payload: Uint8Array, dup = false): SpMessage | undefined {
    const key = `${topic} ${Buffer.from(payload).toString('base64')}`;
    if (dup && this.recent.includes(key)) {
      this.redeliveries++;
      return undefined;
    }
    this.recent.push(key);
    if (this.recent.length > 1000) this.recent.shift();
    const m = decodeSparkplug(topic, payload);
    if (!m) return undefined;
    let names = this.aliases.get(m.node);
    if (!names) this.aliases.set(m.node, (names = new Map()));
    if (m.type === 'NBIRTH') names.clear();
    for (const x of m.metrics) {
      if (x.alias === undefined) continue;
      if (m.type === 'NBIRTH' || m.type === 'DBIRTH') names.set(x.alias, x.name);
      else if (!x.name) x.name = names.get(x.alias) ?? `?alias:${x.alias}`;
    }
    return m;
  }
}

/** Decode one publish on spBv1.0/<group>/<type>/<node>[/<device>] as it is (aliases not resolved); undefined for other topics. */
export function decodeSparkplug(topic: string, payload: Uint8Array): SpMessage | undefined {
  const [ns, group, type, node, device] = topic.split('/');
  if (ns !== 'spBv1.0' || !group || !type || !node) return undefined;
  const p = decodeSparkplugPayload(payload);
  return {
    type,
    group,
    node,
    ...(device !== undefined ? { device } : {}),
    ...(p.seq !== undefined && p.seq !== null ? { seq: num(p.seq) as number } : {}),
    metrics: (p.metrics ?? []).map((m) => ({
      name: m.name ?? '',
      ...(m.alias !== undefined && m.alias !== null ? { alias: num(m.alias) as number } : {}),
      type: m.type,
      value: num(m.value),
      ...(m.timestamp !== undefined && m.timestamp !== null ? { timestamp: num(m.timestamp) as number } : {}),
      historical: m.isHistorical === true,
      props: Object.fromEntries(Object.entries(m.properties ?? {}).map(([k, v]) => [k, num(v.value)])),
    })),
  };
}

export function bdSeqOf(m: SpMessage): number | undefined {
  return m.metrics.find((x) => x.name === 'bdSeq')?.value as number | undefined;
}

/**
 * The node's rules, over everything it published in order (NCMDs and NDEATHs aside):
 * each session starts with NBIRTH seq 0; every later message has the next seq (mod 256);
 * a device's DDATA comes after its DBIRTH in the same session (and after no DDEATH since),
 * and names only metrics that birth declared.
 */
export function checkSparkplugOrder(msgs: SpMessage[]): string[] {
  const problems: string[] = [];
  let expect: number | undefined;
  const born = new Map<string, Set<string>>();
  for (const [i, m] of msgs.entries()) {
    if (m.type === 'NCMD' || m.type === 'NDEATH' || m.type === 'STATE') continue;
    if (m.type === 'NBIRTH') {
      if (m.seq !== 0) problems.push(`#${i} NBIRTH with seq ${m.seq}`);
      expect = 1;
      born.clear();
      continue;
    }
    if (expect === undefined) {
      problems.push(`#${i} ${m.type} before any NBIRTH`);
      continue;
    }
    if (m.seq !== expect) problems.push(`#${i} ${m.type} ${m.device ?? ''} seq ${m.seq}, expected ${expect}`);
    expect = ((m.seq ?? expect) + 1) & 0xff;
    const d = m.device ?? '';
    if (m.type === 'DBIRTH') born.set(d, new Set(m.metrics.map((x) => x.name)));
    else if (m.type === 'DDEATH') born.delete(d);
    else if (m.type === 'DDATA') {
      const names = born.get(d);
      if (!names) problems.push(`#${i} DDATA for ${d} without a DBIRTH`);
      else for (const x of m.metrics) if (!names.has(x.name)) problems.push(`#${i} DDATA for ${d}: metric ${x.name} not in its DBIRTH`);
    }
  }
  return problems;
}
