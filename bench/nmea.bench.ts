/**
 * NMEA decoder throughput on real receivers' output (gpsd's regression captures, 23k sentences from
 * 103 captures, test/fixtures/gpsd): our decoder (checksum, fields, dating, readings) against
 * nmea-simple's parse alone (what the serial driver used before; no dating, no readings).
 * Sentences/s on one core and CPU µs per sentence. Run: npx tsx bench/nmea.bench.ts
 */
import { cpus } from 'node:os';
import { parseNmeaSentence } from 'nmea-simple';
import { NmeaDecoder } from '../drivers/serial/nmea.js';
import type { DropSink } from '../drivers/common/payload.js';
import { captures } from '../test/drivers/gpsd-conformance.js';

const all = captures().filter((c) => c.sentences.some((s) => s.includes('*')));
const sentences = all.reduce((n, c) => n + c.sentences.length, 0);
const NOW = Date.UTC(2026, 11, 1);
const drops: DropSink = { drop: () => {} };
let sink = 0;
const emit = (r: { value: number }) => void (sink += r.value);

function measure(name: string, pass: () => void, passes: number): void {
  for (let i = 0; i < 3; i++) pass(); // warm the JIT
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < passes; i++) pass();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const n = sentences * passes;
  console.log(`  ${name.padEnd(34)} ${Math.round(n / wall).toLocaleString('en').padStart(10)} sentences/s   ${(((cpu.user + cpu.system) / n)).toFixed(2)} µs CPU/sentence`);
}

console.log(`NMEA decoding: ${all.length} captures, ${sentences} sentences a pass (${cpus()[0]?.model ?? 'cpu'}, Node ${process.version})`);
measure('edgewise NmeaDecoder (full decode)', () => {
  for (const c of all) {
    const d = new NmeaDecoder('gps');
    for (const s of c.sentences) d.decode(s, NOW, emit, drops, 'bench');
  }
}, 20);
measure('nmea-simple parseNmeaSentence only', () => {
  for (const c of all) {
    for (const s of c.sentences) {
      try {
        sink += parseNmeaSentence(s).sentenceId.length;
      } catch {
        sink++;
      }
    }
  }
}, 20);
if (sink === -1) console.log(sink);
