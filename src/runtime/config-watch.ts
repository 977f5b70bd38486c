import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

/**
 * Watch a gateway config and its pipeline files for `reload.watch`. Folders are watched, not the
 * files: editors save by writing a new file and renaming it over the old one, which a watch on the
 * file itself would lose. A change of the config file, or of any YAML file in a folder that holds
 * a pipeline (a new file a glob may match), calls `onChange` once the writes have settled.
 */
export function watchConfigFiles(configFile: string, pipelineFiles: string[], onChange: (file: string) => void, settleMs = 300): () => void {
  const byDir = new Map<string, (name: string) => boolean>();
  const add = (dir: string, test: (name: string) => boolean) => {
    const prev = byDir.get(dir);
    byDir.set(dir, prev ? (n) => prev(n) || test(n) : test);
  };
  const cfg = resolve(configFile);
  add(dirname(cfg), (n) => n === basename(cfg));
  for (const f of pipelineFiles) add(dirname(resolve(f)), (n) => /\.ya?ml$/i.test(n));
  let timer: NodeJS.Timeout | undefined;
  const watchers: FSWatcher[] = [];
  for (const [dir, wanted] of byDir) {
    const w = watch(dir, (_event, name) => {
      if (!name || !wanted(name)) return;
      clearTimeout(timer);
      timer = setTimeout(() => onChange(resolve(dir, name)), settleMs);
    });
    w.on('error', () => {}); // a folder removed: nothing more to watch there
    watchers.push(w);
  }
  return () => {
    clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
