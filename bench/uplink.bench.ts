/**
 * The uplink end to end (issue 18): QoS 1 publisher → `edgewise run` (embedded broker, raw readings
 * forwarded) → Mosquitto → a persistent QoS 1 consumer, all real processes on loopback
 * (test/upstream/uplink-scenario.ts). Needs the `mosquitto` binary.
 *
 * 1. Highest sustained raw forwarding rate: steps of input rate, 100 streams, no outage; a step is
 *    sustained when the publisher kept its rate and every acknowledged reading reached the
 *    consumer within 2 s of the publisher stopping. CPU per message: the gateway process's CPU.
 * 2. Drain after a 60 s outage (Mosquitto stopped) at 50 % of that rate: the time until everything
 *    acknowledged before the outage's end arrived, and the forwarding rate while draining.
 * 3. The issue's run: 5,000 readings/s over 100 streams, 20 outages of 5–20 s (stopped and paused
 *    broker in turn): acknowledged readings lost, seq gaps, catch-up time after each outage.
 *
 * Run: npx tsx bench/uplink.bench.ts   (~10 min)
 *      UPLINK_BENCH_RATES=5000,10000,15000,20000  UPLINK_BENCH_STEP_S=15  UPLINK_BENCH_OUTAGE_S=60
 *      UPLINK_BENCH_OUTAGES=20 (0 skips part 3)  UPLINK_BENCH_PARTS=1,2,3
 */
import os from 'node:os';
import { runUplinkScenario, type Outage } from '../test/upstream/uplink-scenario.js';

const STREAMS = 100;
const RATES = (process.env.UPLINK_BENCH_RATES ?? '5000,10000,15000,20000,25000').split(',').map(Number);
const STEP_S = Number(process.env.UPLINK_BENCH_STEP_S ?? 15);
const OUTAGE_S = Number(process.env.UPLINK_BENCH_OUTAGE_S ?? 60);
const OUTAGES = Number(process.env.UPLINK_BENCH_OUTAGES ?? 20);
const PARTS = new Set((process.env.UPLINK_BENCH_PARTS ?? '1,2,3').split(','));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const log = (l: string) => console.log(`  ${l}`);

console.log(`uplink bench — node ${process.version}, ${os.cpus().length} cpu (${os.cpus()[0]?.model ?? '?'}), load ${os.loadavg()[0]!.toFixed(1)}`);
let best = Number(process.env.UPLINK_BENCH_MAX ?? 0);
if (PARTS.has('1')) {
  for (const rate of RATES) {
    const r = await runUplinkScenario({ rate, streams: STREAMS, outages: [], leadMs: STEP_S * 1000, settleMs: 30_000 });
    const offered = r.published / r.seconds;
    const ok = offered >= rate * 0.95 && r.finalCatchUpMs >= 0 && r.finalCatchUpMs <= 2000 && r.lost === 0;
    console.log(
      `1. input ${fmt(rate)}/s: published ${fmt(offered)}/s, acked ${fmt(r.acked)}, arrived ${fmt(r.received)}, last reading ${r.finalCatchUpMs < 0 ? 'never' : `${fmt(r.finalCatchUpMs)} ms`} after the publisher stopped, lost ${r.lost}; gateway CPU ${(r.gatewayCpuMs / 10 / r.seconds).toFixed(0)}% of a core, ${((r.gatewayCpuMs * 1000) / Math.max(1, r.received)).toFixed(1)} µs/msg, ${(r.gatewayWrittenBytes / r.seconds / 1e6).toFixed(2)} MB/s written to storage → ${ok ? 'sustained' : 'NOT sustained'}`,
    );
    if (!ok) break;
    best = rate;
  }
  console.log(`1. highest sustained raw forwarding rate (of the steps tried): ${fmt(best)} readings/s`);
}
if (PARTS.has('2') && best > 0) {
  const rate = Math.round(best / 2);
  // The backlog (~230 B a raw reading) must fit the outbox: 1GB instead of the default 64MB.
  const r = await runUplinkScenario({ rate, streams: STREAMS, outages: [{ kind: 'stop', downMs: OUTAGE_S * 1000, upMs: 5000 }], leadMs: 5000, outboxMaxBytes: '1GB', log });
  const o = r.outages[0]!;
  const forwardRate = o.catchUpMs > 0 ? (o.bufferedDuring + (rate * o.catchUpMs) / 1000) / (o.catchUpMs / 1000) : NaN;
  console.log(
    `2. ${OUTAGE_S} s outage at ${fmt(rate)}/s: ${fmt(o.bufferedDuring)} buffered, caught up in ${o.catchUpMs < 0 ? 'NEVER' : `${(o.catchUpMs / 1000).toFixed(1)} s`}: forwarding ${fmt(forwardRate)} msg/s while draining (backlog ${fmt(forwardRate - rate)}/s on top of the input); lost ${r.lost}, seq gaps ${r.seqGaps}, outbox drops ${JSON.stringify(r.outboxDropped)}; gateway ${((r.gatewayCpuMs * 1000) / Math.max(1, r.received)).toFixed(1)} µs CPU/msg`,
  );
}
if (PARTS.has('3') && OUTAGES > 0) {
  let seed = 18;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const outages: Outage[] = Array.from({ length: OUTAGES }, (_, i) => ({ kind: i % 2 ? 'pause' : 'stop', downMs: Math.round(5000 + rnd() * 15_000), upMs: 10_000 }));
  const r = await runUplinkScenario({ rate: 5000, streams: STREAMS, outages, leadMs: 5000, log });
  const worst = Math.max(...r.outages.map((o) => (o.catchUpMs < 0 ? Infinity : o.catchUpMs / o.downMs)));
  console.log(
    `3. 5,000/s, 100 streams, ${OUTAGES} outages of 5–20 s: acked ${fmt(r.acked)}, lost ${r.lost}, seq gaps ${r.seqGaps}, duplicates ${fmt(r.duplicates)}, outbox drops ${JSON.stringify(r.outboxDropped)}, every backlog caught up: ${r.outages.every((o) => o.catchUpMs >= 0)}, catch-up ≤ ${worst.toFixed(2)} × the outage; gateway ${((r.gatewayCpuMs * 1000) / Math.max(1, r.received)).toFixed(1)} µs CPU/msg`,
  );
}
