import { writeDataset, writeGroundTruth, faultsPathFor, type DatasetSummary } from './dataset.js';
import { runLive, type LiveSummary, type SampleWriter } from './live.js';
import { Simulation, type SimOptions } from './sim.js';
import { MqttTransport } from './transports/mqtt.js';
import { SerialTransport } from './transports/serial.js';
import { SparkplugTransport } from './transports/sparkplug.js';

export interface RunSimOptions extends SimOptions {
  /** MQTT broker URL; omit for no MQTT. */
  broker?: string;
  /** Topic template (default `sensors/{device}/{metric}`). */
  topic?: string;
  /** Publish as a Sparkplug B edge node of this group (instead of JSON on `topic`). */
  sparkplug?: string;
  /** Serial pty link path (needs socat); omit for none. */
  serialLink?: string;
  /** NAB windows file to write (fault JSON lines go next to it, `<name>.faults.jsonl`). */
  labelsOut?: string;
  /** Write a data set here instead of (or, with a broker, besides) sending live. */
  csvOut?: string;
  /** Pace to the wall clock (default true when there is a live transport). */
  realTime?: boolean;
  signal?: AbortSignal;
  /** Progress and notes (stderr in the CLI). */
  log?: (line: string) => void;
}

export interface RunSimResult {
  sim: Simulation;
  dataset?: DatasetSummary;
  live?: LiveSummary;
  published?: number;
  serialLines?: number;
}

/** What `edgewise sim` does: a data set offline, or a live run over MQTT and/or serial. */
export async function runSim(o: RunSimOptions): Promise<RunSimResult> {
  const log = o.log ?? (() => {});
  const sim = new Simulation(o);
  const out: RunSimResult = { sim };
  if (o.labelsOut) {
    writeGroundTruth(sim, o.labelsOut, faultsPathFor(o.labelsOut));
    log(`ground truth: ${o.labelsOut} and ${faultsPathFor(o.labelsOut)} (${sim.faults().length} injected faults)`);
  }
  if (o.csvOut) {
    out.dataset = writeDataset(sim, o.csvOut);
    log(`data set: ${out.dataset.files.length} files, ${out.dataset.rows} rows, ${out.dataset.readings} readings under ${o.csvOut}/data; labels ${out.dataset.labels}`);
  }
  if (!o.broker && !o.serialLink) return out;

  const writers: SampleWriter[] = [];
  let mqttT: MqttTransport | undefined;
  let sparkplugT: SparkplugTransport | undefined;
  let serialT: SerialTransport | undefined;
  try {
    if (o.broker && o.sparkplug) {
      sparkplugT = await SparkplugTransport.connect({ url: o.broker, group: o.sparkplug });
      writers.push(sparkplugT);
      log(`Sparkplug B: edge node spBv1.0/${o.sparkplug}/…/sim at ${o.broker}, a device per simulated device, metrics by alias`);
    } else if (o.broker) {
      mqttT = await MqttTransport.connect({ url: o.broker, topic: o.topic });
      writers.push(mqttT);
      log(`MQTT: publishing to ${o.broker}, topic ${o.topic ?? 'sensors/{device}/{metric}'}, QoS 0`);
    }
    if (o.serialLink) {
      const vans = sim.devices.filter((d) => d.domain === 'telematics').map((d) => d.id);
      serialT = await SerialTransport.open(o.serialLink, vans);
      writers.push(serialT);
      log(`serial: kv lines on ${o.serialLink}${vans.length ? `; NMEA on ${Object.values(serialT.gpsPaths()).join(', ')}` : ''}`);
    }
    const perSec = sim.readingsPerTick * o.rateHz;
    log(`${sim.devices.length} devices, ${o.rateHz} Hz, ~${Math.round(perSec)} readings/s, ${Math.round(o.durationMs / 1000)} s, seed ${o.seed}`);
    out.live = await runLive(sim, writers, { realTime: o.realTime ?? true, epoch: o.start, signal: o.signal });
  } finally {
    out.published = mqttT?.published ?? sparkplugT?.published;
    out.serialLines = serialT?.lines;
    await mqttT?.close().catch(() => {});
    await sparkplugT?.close().catch(() => {});
    await serialT?.close().catch(() => {});
  }
  return out;
}
