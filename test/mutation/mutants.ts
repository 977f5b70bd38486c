/**
 * The curated mutation list for `npm run test:mutation` (test/mutation/check.ts): one-line
 * removals and inversions in the engine, the outbox, upstream and the gateway's state and dead
 * letters, each of which some test must catch. `in` is a file or a folder: the original text is
 * looked for in its .ts files and must occur exactly once, so a module split inside a folder
 * keeps its mutants. When a change moves or rewrites the text, update `original` here.
 */
export interface Mutant {
  id: string;
  /** A source file or folder (its .ts files, recursively). */
  in: string;
  original: string;
  replacement: string;
  /** Test files to run; the mutant is killed when they fail. */
  tests: string[];
  /** Only the tests whose names match (node --test-name-pattern), to keep the check fast. */
  pattern?: string;
}

export const MUTANTS: Mutant[] = [
  {
    id: 'engine: the default idle timeout is never',
    in: 'src/engine',
    original: 'return Math.max(2 * span, 60_000);',
    replacement: 'return Infinity;',
    tests: ['test/engine/idle-default.test.ts'],
  },
  {
    id: 'engine: NaN values are taken',
    in: 'src/engine',
    original: "if (Number.isNaN(v)) return this.refuse('nan', r, `${stream}: value is NaN`);",
    replacement: '',
    tests: ['test/runtime/dead-letters.test.ts'],
  },
  {
    id: 'engine: late readings are merged into closed windows',
    in: 'src/engine',
    original: 'if (ts < wm) {',
    replacement: 'if (false) {',
    tests: ['test/engine/windows.test.ts'],
    pattern: 'late',
  },
  {
    id: 'engine: far-future readings are taken',
    in: 'src/engine',
    original: 'if (ts > ref + this.maxFutureSkew && ref !== -Infinity) {',
    replacement: 'if (false) {',
    tests: ['test/engine/event-time.test.ts'],
    pattern: 'far-future',
  },
  {
    id: 'engine: max_keys is not enforced',
    in: 'src/engine',
    original: 'if (this.keys.size >= this.maxKeys) {',
    replacement: 'if (false) {',
    tests: ['test/engine/pipeline.test.ts'],
    pattern: 'key cap',
  },
  {
    id: 'outbox: an oversized payload is stored',
    in: 'src/outbox',
    original: 'if (payload.length > this.cfg.max_message_bytes) {',
    replacement: 'if (false) {',
    tests: ['test/outbox/outbox.test.ts'],
    pattern: 'oversized',
  },
  {
    id: 'outbox: per-topic seq does not advance',
    in: 'src/outbox',
    original: 'return ++key.lastSeq;',
    replacement: 'return key.lastSeq + 1;',
    tests: ['test/outbox/outbox.test.ts'],
    pattern: 'gap-free per-topic sequences',
  },
  {
    id: 'outbox: an acknowledged message is not deleted',
    in: 'src/outbox',
    original: 'if (!store.delete(a.priority, a.id)) continue;',
    replacement: 'continue;',
    tests: ['test/outbox/outbox.test.ts'],
    pattern: 'acknowledged',
  },
  {
    id: 'outbox: when full, the highest priority is dropped first',
    in: 'src/outbox',
    original: 'for (const p of PRIORITIES) {\n      if (need <= 0) break;',
    replacement: 'for (const p of [...PRIORITIES].reverse()) {\n      if (need <= 0) break;',
    tests: ['test/outbox/outbox.test.ts'],
    pattern: 'lowest priority first',
  },
  {
    id: 'outbox: max_age is not enforced',
    in: 'src/outbox',
    original: 'if (r.created >= cutoff) break;',
    replacement: 'break;',
    tests: ['test/outbox/outbox.test.ts'],
    pattern: 'max_age',
  },
  {
    id: 'outbox: dead letters are not stored',
    in: 'src/outbox',
    original: 'for (const d of this.pending) this.stmts.insert.run(d.source, d.reason, d.at, d.detail ?? null, d.sample);',
    replacement: '',
    tests: ['test/outbox/parts.test.ts'],
    pattern: 'dead letters',
  },
  {
    id: 'upstream: a refused publish (PUBACK failure) is acknowledged',
    in: 'src/upstream',
    original: "this.log.warn({ err: err.message }, `upstream: publish failed: ${err.message}`);\n          return;",
    replacement: "this.log.warn({ err: err.message }, `upstream: publish failed: ${err.message}`);",
    tests: ['test/upstream/refused-publish.test.ts'],
  },
  {
    id: 'upstream: a PUBACK does not acknowledge the outbox row',
    in: 'src/upstream',
    original: 'if (!this.outbox.isClosed) this.outbox.ack(r);',
    replacement: '',
    tests: ['test/upstream/refused-publish.test.ts'],
  },
  {
    id: 'upstream: fresh messages go lowest priority first',
    in: 'src/upstream',
    original: 'for (const p of HIGHEST_FIRST) {\n      const q = this.fresh[p];',
    replacement: 'for (const p of [...HIGHEST_FIRST].reverse()) {\n      const q = this.fresh[p];',
    tests: ['test/upstream/forwarder.test.ts'],
    pattern: 'committed together',
  },
  {
    id: 'runtime: detector state is not restored at start',
    in: 'src/runtime',
    original: 'const failed = p.restore(snap);',
    replacement: 'const failed: RestoreFailure[] = [];',
    tests: ['test/runtime/state.test.ts'],
    pattern: 'clean restart',
  },
  {
    id: 'runtime: state is not saved at a clean stop',
    in: 'src/runtime',
    original: 'for (const p of this.pipelines) p.flush(true);\n      this.checkpoint();',
    replacement: 'for (const p of this.pipelines) p.flush(true);',
    tests: ['test/runtime/state.test.ts'],
    pattern: 'durability: off',
  },
  {
    id: 'runtime: refused readings are not kept as dead letters',
    in: 'src/runtime',
    original: 'this.outbox.recordDeadLetter(source, { ...d, at: this.now() });',
    replacement: 'void d;',
    tests: ['test/runtime/dead-letters.test.ts'],
  },
  {
    id: 'serial: a port that is not there is not retried',
    in: 'drivers/serial',
    original: 'this.retryTimer = setTimeout(() => this.open(), delay);',
    replacement: 'this.retryTimer = setTimeout(() => {}, delay);',
    tests: ['test/drivers/serial-retry.test.ts'],
  },
  {
    id: 'journal: the room left on a nearly full disk is ignored',
    in: 'src/journal',
    original: '    let left = room;',
    replacement: '    let left = Infinity;',
    tests: ['test/journal/journal.test.ts'],
    pattern: 'nearly full',
  },
  {
    id: 'journal: on a nearly full disk a PUBACK waits for readings nobody waits for',
    in: 'src/journal',
    original: 'if (room !== Infinity && mustTo > -Infinity) this.dropBefore(mustTo, room);',
    replacement: '',
    tests: ['test/journal/journal.test.ts'],
    pattern: 'nearly full',
  },
  {
    id: "runtime: the devices' clock consensus is not applied to arrivals",
    in: 'src/runtime',
    original: '    return at;',
    replacement: '    return now;',
    tests: ['test/runtime/device-clocks.test.ts'],
  },
  {
    id: 'runtime: every failed checkpoint is logged',
    in: 'src/runtime',
    original: 'if (this.checkpointsFailedInRow++ === 0) o.log.error(',
    replacement: 'if (++this.checkpointsFailedInRow > 0) o.log.error(',
    tests: ['test/state/keeper.test.ts'],
  },
  {
    id: 'mqtt: ts_zone is ignored',
    in: 'drivers/common',
    original: 'parseTimestamp(raw, this.opts.tsUnit, this.opts.tsZone, now)',
    replacement: 'parseTimestamp(raw, this.opts.tsUnit, undefined, now)',
    tests: ['test/drivers/mqtt-limits.test.ts'],
    pattern: 'ts_zone',
  },
  {
    id: 'ts_zone: the hour a fall-back repeats is always its second occurrence',
    in: 'src/core/local-zone.ts',
    original: 'near !== undefined && Math.abs(near - first) < Math.abs(near - second) ? first : Math.max(first, second)',
    replacement: 'Math.max(first, second)',
    tests: ['test/drivers/serial-formats.test.ts'],
    pattern: 'fall-back',
  },
  {
    id: 'payloads: nested objects are not read',
    in: 'drivers/common',
    original: 'if (depth < MAX_DEPTH) this.fieldReadings(',
    replacement: 'if (false) this.fieldReadings(',
    tests: ['test/drivers/device-payloads.test.ts'],
  },
  {
    id: 'line protocol: tags do not name the stream (every CPU in one stream)',
    in: 'drivers/common',
    original: "for (const [k, v] of p.tags) if (k !== 'host') name +=",
    replacement: 'for (const [k, v] of p.tags) if (false) name +=',
    tests: ['test/drivers/line-protocol.test.ts'],
  },
  {
    id: "line protocol: tags in the writer's order",
    in: 'drivers/common',
    original: 'tags.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));',
    replacement: '',
    tests: ['test/drivers/line-protocol-conformance.test.ts'],
  },
  {
    id: 'sparkplug: an 8-bit Int8 is read as unsigned',
    in: 'drivers/mqtt/sparkplug.ts',
    original: 'return bits < 32 && u >= 2 ** (bits - 1) && u < 2 ** bits ? u - 2 ** bits : u;',
    replacement: 'return u;',
    tests: ['test/drivers/sparkplug.test.ts'],
  },
  {
    id: 'sparkplug: no rebirth is asked for',
    in: 'drivers/mqtt/sparkplug.ts',
    original: 'this.publish(',
    replacement: 'void (',
    tests: ['test/drivers/sparkplug.test.ts'],
  },
  {
    id: 'sparkplug: a rebirth is asked for at every unknown alias',
    in: 'drivers/mqtt/sparkplug.ts',
    original: 'if (now - st.lastRebirthAsk < REBIRTH_EVERY_MS) return false;',
    replacement: '',
    tests: ['test/drivers/sparkplug.test.ts'],
  },
  {
    id: 'sparkplug: births do not teach aliases',
    in: 'drivers/mqtt/sparkplug.ts',
    original: 'if (st.aliases.size < MAX_ALIASES || st.aliases.has(alias)) st.aliases.set(alias, name);',
    replacement: '',
    tests: ['test/drivers/sparkplug.test.ts'],
  },
  {
    id: 'payloads: switch states (ON/OFF) are not numbers',
    in: 'drivers/common/payload.ts',
    original: 'return s.length <= 5 ? SWITCH_STATES[s.toLowerCase()] : undefined;',
    replacement: 'return undefined;',
    tests: ['test/drivers/device-payloads.test.ts'],
  },
  {
    id: 'sparkplug: data without datatypes does not take the birth\'s',
    in: 'drivers/mqtt/sparkplug.ts',
    original: 'if (t === 0) t = st?.types.get(typeKey) ?? 0;',
    replacement: '',
    tests: ['test/drivers/sparkplug.test.ts'],
  },
  {
    id: 'sparkplug: FloatArray read big-endian',
    in: 'drivers/mqtt/sparkplug.ts',
    original: 'out.push(dv.getFloat32(o, true))',
    replacement: 'out.push(dv.getFloat32(o, false))',
    tests: ['test/drivers/sparkplug.test.ts'],
  },
  {
    id: 'sparkplug: template members are not read',
    in: 'drivers/mqtt/sparkplug.ts',
    original: 'if (!tv || tv.isDefinition === true || depth >= MAX_DEPTH) {',
    replacement: 'if (true) {',
    tests: ['test/drivers/sparkplug.test.ts'],
  },
  {
    id: 'payloads: values_path is ignored',
    in: 'drivers/common/payload.ts',
    original: 'obj = o as Record<string, unknown>;',
    replacement: '',
    tests: ['test/drivers/device-payloads.test.ts'],
  },
];
