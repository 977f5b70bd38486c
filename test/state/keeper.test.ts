import { readJournal } from '../../src/journal/journal.js';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { compilePipeline } from '../../src/compile.js';
import { pipelineSchema } from '../../src/config/pipeline.js';
import { createLogger, silentLogger } from '../../src/core/log.js';
import { Outbox } from '../../src/outbox/index.js';
import { DEFAULT_STATE_CONFIG, StateKeeper } from '../../src/runtime/state-keeper.js';
import { outboxConfig, tempDir, waitFor } from '../upstream/helpers.js';

test('periodic checkpoints that fail (a read-only or full file) are counted, logged once per run of failures, and a line says when one succeeds again', async (t) => {
  const { dir, cleanup } = tempDir('edgewise-cp-fail-');
  t.after(cleanup);
  const lines: Array<{ level: number; msg: string }> = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  const log = createLogger({ format: 'json', level: 'info', destination });
  const outbox = Outbox.open({ config: outboxConfig(), dataDir: dir, gatewayId: 'gw', log: silentLogger() });
  const pipeline = compilePipeline(pipelineSchema().parse({ name: 'p', input: { streams: ['*/*'] }, steps: [{ window: { type: 'tumbling', size: '1s', aggregates: ['mean'] } }, { output: 'agg' }] }), (e) => outbox.put(e));
  const keeper = new StateKeeper({ outbox, pipelines: [pipeline], config: DEFAULT_STATE_CONFIG, log, now: () => 0, dataDir: dir });
  const attempt = async () => {
    pipeline.push({ stream: 'a/t', ts: 1000, value: 1 });
    keeper.checkpointInSlices();
    await waitFor(() => !keeper.writing, 'the checkpoint done or given up');
  };
  outbox.database.pragma('query_only = ON'); // every write fails, as on a full disk
  for (let i = 0; i < 3; i++) await attempt();
  assert.equal(keeper.stats().failedCheckpoints, 3);
  assert.equal(lines.filter((l) => l.msg.startsWith('state: checkpoint failed')).length, 1, 'one error line for the run');
  outbox.database.pragma('query_only = OFF');
  await attempt();
  assert.equal(keeper.stats().failedCheckpoints, 3);
  assert.ok(lines.some((l) => l.level === 40 && l.msg === 'state: checkpoints succeed again after 3 failed'), JSON.stringify(lines));
  keeper.close();
  outbox.close();
});

test('a QoS 1 delivery that yields no reading (a refused payload) does not mark the next reading as its own in the journal', (t) => {
  const { dir, cleanup } = tempDir('edgewise-src-');
  t.after(cleanup);
  const outbox = Outbox.open({ config: outboxConfig(), dataDir: dir, gatewayId: 'gw', log: silentLogger() });
  const keeper = new StateKeeper({ outbox, pipelines: [], config: DEFAULT_STATE_CONFIG, log: silentLogger(), now: () => 0, dataDir: dir });
  assert.equal(keeper.delivery('dev', 7, 1), true);
  keeper.whenDurable(() => {}); // its payload was refused: no reading
  keeper.append({ stream: 'a/t', ts: 1, value: 1 }, 1); // a QoS 0 reading
  assert.equal(keeper.delivery('dev', 8, 2), true);
  keeper.append({ stream: 'a/t', ts: 2, value: 2 }, 2);
  keeper.whenDurable(() => {});
  keeper.journal!.commitNow();
  assert.deepEqual([...readJournal(outbox.database, 0)].map((e) => ({ value: 'reading' in e ? e.reading.value : NaN, src: 'src' in e ? e.src : null })), [
    { value: 1, src: null },
    { value: 2, src: 'dev\u00008\u00002' },
  ]);
  keeper.close();
  outbox.close();
});
