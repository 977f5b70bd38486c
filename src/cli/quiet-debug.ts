import { createRequire, Module } from 'node:module';
import { dirname } from 'node:path';

/**
 * aedes's packet parser and writer (mqtt-packet) and mqtt.js call the `debug` package dozens of
 * times per MQTT packet. Disabled, each call still builds its argument array before it returns:
 * at 5,000 QoS 1 messages/s that was 13 % of everything the gateway allocated, and so a good part
 * of its garbage collection (bench/runtime.bench.ts with RUNTIME_BENCH_ALLOC_PROFILE). Unless the
 * user asked for debug output (the DEBUG environment variable, as with any Node program), the
 * shared `debug` module is replaced by one whose loggers do nothing, before those packages load.
 * Import this first.
 */
function quietDebug(): void {
  if (process.env.DEBUG) return;
  const require = createRequire(import.meta.url);
  let file: string;
  try {
    file = require.resolve('debug', { paths: [dirname(require.resolve('mqtt-packet'))] });
  } catch {
    return; // laid out differently: leave it as it is
  }
  if (require.cache[file]) return; // already loaded by someone: too late to swap safely
  const off = (): void => {};
  type Logger = typeof off & { namespace: string; enabled: boolean; extend: (sub: string) => Logger };
  const make = (namespace: string): Logger =>
    Object.assign(() => {}, { namespace, enabled: false, log: off, destroy: off, extend: (sub: string) => make(`${namespace}:${sub}`) });
  const createDebug = Object.assign(make, { enable: off, disable: () => '', enabled: () => false, names: [], skips: [], formatters: {}, selectColor: () => 0, humanize: (ms: number) => `${ms}ms` });
  const stub = new Module(file);
  stub.filename = file;
  stub.loaded = true;
  stub.exports = createDebug;
  require.cache[file] = stub;
}

quietDebug();
