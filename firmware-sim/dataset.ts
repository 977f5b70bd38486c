import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { csvTime, faultLines, nabWindows } from './groundtruth.js';
import type { Simulation } from './sim.js';
import type { DeviceModel, FaultEvent } from './types.js';

/** Where a data set's files go, relative to its folder (NAB's layout: data/ and labels/). */
export function datasetKey(d: Pick<FaultEvent, 'device' | 'domain'>): string {
  return `${d.domain}/${d.device}.csv`;
}

export interface DatasetSummary {
  dir: string;
  files: string[];
  rows: number;
  readings: number;
  labels: string;
  faults: string;
}

/**
 * Write a whole run as fast as it computes (simulated time): one CSV per device,
 * `<dir>/data/<domain>/<device>.csv` with `timestamp,<metric>,...` (empty cell = no reading at
 * that tick), plus `<dir>/labels/combined_windows.json` (NAB windows, keys like
 * `maintenance/pump-1.csv`) and `<dir>/labels/faults.jsonl`. Score with
 * `edgewise backtest --input <dir>/data --labels <dir>/labels/combined_windows.json`.
 */
export function writeDataset(sim: Simulation, dir: string, onProgress?: (tick: number, ticks: number) => void): DatasetSummary {
  const fds = new Map<DeviceModel, { fd: number; buf: string[] }>();
  const files: string[] = [];
  for (const d of sim.devices) {
    const path = join(dir, 'data', datasetKey({ device: d.id, domain: d.domain }));
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(path, 'w');
    writeSync(fd, `timestamp,${d.metrics.join(',')}\n`);
    fds.set(d, { fd, buf: [] });
    files.push(path);
  }
  let rows = 0;
  let readings = 0;
  const flush = (f: { fd: number; buf: string[] }) => {
    if (f.buf.length) writeSync(f.fd, f.buf.join(''));
    f.buf.length = 0;
  };
  try {
    const step = Math.max(1, Math.floor(20_000 / sim.devices.length));
    for (let k = 0; k < sim.ticks; ) {
      k = sim.run(k, k + step, (s) => {
        let line = csvTime(s.t);
        const v = s.values;
        for (const x of v) {
          if (Number.isNaN(x)) line += ',';
          else {
            line += ',' + String(x);
            readings++;
          }
        }
        const f = fds.get(s.device)!;
        f.buf.push(line + '\n');
        rows++;
        if (f.buf.length >= 2048) flush(f);
      });
      onProgress?.(k, sim.ticks);
    }
  } finally {
    for (const f of fds.values()) {
      flush(f);
      closeSync(f.fd);
    }
  }
  const labelsDir = join(dir, 'labels');
  mkdirSync(labelsDir, { recursive: true });
  const labels = join(labelsDir, 'combined_windows.json');
  const faults = join(labelsDir, 'faults.jsonl');
  writeGroundTruth(sim, labels, faults);
  return { dir, files, rows, readings, labels, faults };
}

/** Write the NAB windows file and the fault JSON lines for a run. */
export function writeGroundTruth(sim: Simulation, labelsPath: string, faultsPath: string): void {
  const events = sim.faults();
  const windows = nabWindows(events, { keyOf: datasetKey, devices: sim.devices.map((d) => ({ device: d.id, domain: d.domain })), intervalMs: 1000 / sim.opts.rateHz });
  mkdirSync(dirname(labelsPath), { recursive: true });
  writeFileSync(labelsPath, JSON.stringify(windows, null, 4) + '\n');
  mkdirSync(dirname(faultsPath), { recursive: true });
  writeFileSync(faultsPath, faultLines(events));
}

/** `labels.json` → `labels.faults.jsonl` (the fault lines next to a labels file). */
export function faultsPathFor(labelsPath: string): string {
  return labelsPath.replace(/\.json$/i, '') + '.faults.jsonl';
}
