import type { Command } from 'commander';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseDuration } from '../core/duration.js';
import { parseDomains, parseDuty, runSim } from '../../firmware-sim/index.js';

interface SimFlags {
  broker?: string;
  domain: string;
  devices: string;
  rate: string;
  seed: string;
  duration: string;
  faults: string;
  labelsOut?: string;
  csvOut?: string;
  serialLink?: string;
  topic?: string;
  sparkplug?: string;
  start?: string;
  fast?: boolean;
  overwrite?: boolean;
  imu?: boolean;
  phone?: boolean;
  duty?: string;
}

/**
 * A data set folder must start empty: files of an earlier run (other devices, other domains) would
 * otherwise sit beside the new ones and be read as part of it. `--overwrite` removes the data/ and
 * labels/ folders a previous run wrote; anything else in the folder is left and refused.
 */
function prepareDatasetDir(dir: string, overwrite: boolean): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return; // does not exist yet: written fresh
  }
  if (overwrite) {
    for (const sub of ['data', 'labels']) rmSync(join(dir, sub), { recursive: true, force: true });
    entries = entries.filter((e) => e !== 'data' && e !== 'labels');
    if (entries.length === 0) return;
    throw new Error(`--csv-out ${dir}: holds files that are not a data set (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); choose an empty folder`);
  }
  if (entries.length > 0) throw new Error(`--csv-out ${dir}: the folder is not empty (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); choose an empty folder, or add --overwrite to replace the data set an earlier run wrote there`);
}

function positiveNumber(flag: string, text: string, integer = false): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new Error(`${flag} ${text}: expected a ${integer ? 'whole ' : ''}number greater than 0`);
  return n;
}

export function register(program: Command): void {
  program
    .command('sim')
    .description('Simulated sensor firmware: pumps, patient monitors and vans with realistic signals and injected faults with ground truth, over MQTT or pty serial, or written as a data set.')
    .option('-b, --broker <url>', 'MQTT broker to publish to, e.g. mqtt://127.0.0.1:1883')
    .option('-d, --domain <name>', 'maintenance, vitals, telematics, all (or a comma-separated list)', 'all')
    .option('-n, --devices <n>', 'devices per domain', '1')
    .option('-r, --rate <hz>', 'samples per second per device (each gives one reading per metric; at most 1000)', '1')
    .option('-s, --seed <n>', 'seed: the same seed gives the same readings', '1')
    .option('-t, --duration <time>', 'length of the run, e.g. 90s, 10m, 2h', '10m')
    .option('--faults <on|off>', 'inject faults', 'on')
    .option('--labels-out <file>', 'write the ground truth: NAB windows JSON here, fault JSON lines next to it (<name>.faults.jsonl)')
    .option('--csv-out <dir>', 'write a data set: <dir>/data/<domain>/<device>.csv and <dir>/labels/{combined_windows.json,faults.jsonl}; without --broker/--serial-link this runs in simulated time, as fast as it computes')
    .option('--serial-link <path>', 'make a pty pair with socat: the gateway opens <path> (format kv); vans\' GPS as NMEA on <path>-gps-<van>')
    .option('--topic <template>', 'MQTT topic template', 'sensors/{device}/{metric}')
    .option('--sparkplug <group>', 'with --broker: publish as a Sparkplug B edge node "sim" of this group (births, metrics by alias, rebirth on NCMD) instead of JSON topics')
    .option('--start <time>', 'start of simulated time (ISO 8601, UTC); default: now when live, 2024-01-01T00:00:00Z for a data set')
    .option('--overwrite', 'with --csv-out: replace the data/ and labels/ folders of an earlier run (without it, a non-empty folder is refused)')
    .option('--imu', 'vans also send a raw accelerometer and gyro (accel_x/y/z, gyro_x/y/z) at --rate in a random mounting, CAN/GPS once a second; adds harsh_cornering faults (use --rate 50)')
    .option('--phone', 'vans are tracked by a phone app alone: speed_kmh, lat, lon, course_deg once a second, the speed holding stale values as a phone\'s fused location does, -1 for unknown; no CAN values (not with --imu)')
    .option('--duty <shift|RUN/PERIOD>', 'pumps stop and vans park (engine off): "shift" runs 06:00–22:00 UTC, "20m/1h" runs 20 minutes of every hour (each device at its own phase); faults fall in running time')
    .option('--fast', 'live transports as fast as they take it instead of real time (load tests)')
    .addHelpText(
      'after',
      `
Devices are pump-1.., bed-1.., van-1..; streams <device>/<metric>; MQTT payloads {"value": v, "ts": ms}
at QoS 0. Faults are placed after the first 20 % of the run, one slot per fault type; artefacts (a
pulse oximeter's probe off: SpO2 0) are ground truth of kind "artefact" and have no label window.

Examples:
  edgewise sim --broker mqtt://127.0.0.1:1883 --domain all --devices 3 --duration 30m
  edgewise sim --domain maintenance --devices 100 --rate 100 --broker mqtt://127.0.0.1:1883 --fast   # ~60k readings/s
  edgewise sim --domain vitals --devices 5 --duration 6h --seed 7 --csv-out sim-data
  edgewise backtest --input sim-data/data --labels sim-data/labels/combined_windows.json
  edgewise sim --domain telematics --serial-link /tmp/ttyVAN --labels-out /tmp/van-labels.json
  edgewise sim --broker mqtt://127.0.0.1:1883 --sparkplug plant --domain maintenance   # an mqtt input with sparkplug: {}`,
    )
    .action(async (f: SimFlags) => {
      const live = Boolean(f.broker || f.serialLink);
      if (!live && !f.csvOut && !f.labelsOut) throw new Error('edgewise sim: nothing to do: give --broker, --serial-link, --csv-out or --labels-out (see edgewise sim --help)');
      if (f.csvOut) prepareDatasetDir(f.csvOut, f.overwrite === true);
      if (f.faults !== 'on' && f.faults !== 'off') throw new Error(`--faults ${f.faults}: expected on or off`);
      let start: number;
      if (f.start) {
        start = Date.parse(/Z|[+-]\d\d:?\d\d$/.test(f.start) ? f.start : `${f.start}Z`);
        if (!Number.isFinite(start)) throw new Error(`--start ${f.start}: not an ISO 8601 time (e.g. 2024-01-01T08:00:00Z)`);
      } else start = live ? Math.floor(Date.now() / 1000) * 1000 : Date.UTC(2024, 0, 1);
      let durationMs: number;
      try {
        durationMs = parseDuration(f.duration);
      } catch (e) {
        throw new Error(`--duration ${f.duration}: ${(e as Error).message}`);
      }
      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        const r = await runSim({
          domains: parseDomains(f.domain),
          devices: positiveNumber('--devices', f.devices, true),
          rateHz: positiveNumber('--rate', f.rate),
          seed: Number.isFinite(Number(f.seed)) ? Number(f.seed) : 1,
          start,
          durationMs,
          faults: f.faults === 'on',
          imu: f.imu ?? false,
          phone: f.phone ?? false,
          ...(f.duty ? { duty: parseDuty(f.duty, parseDuration) } : {}),
          broker: f.broker,
          topic: f.topic,
          sparkplug: f.sparkplug,
          serialLink: f.serialLink,
          labelsOut: f.labelsOut,
          csvOut: f.csvOut,
          realTime: !f.fast,
          signal: ac.signal,
          log: (l) => process.stderr.write(`sim: ${l}\n`),
        });
        if (r.live) process.stderr.write(`sim: done: ${r.live.ticks} ticks, ${r.published ?? 0} MQTT publishes, ${r.serialLines ?? 0} serial lines${r.live.aborted ? ' (stopped)' : ''}\n`);
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
