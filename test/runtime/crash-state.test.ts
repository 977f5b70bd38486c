import { test } from 'node:test';
import { TestBroker } from '../upstream/helpers.js';
import { crashScenario } from './crash-scenario.js';

test('acknowledged means durable: SIGKILLs of edgewise run and upstream outages lose no acknowledged reading, upstream equals a run without faults', { timeout: 150_000 }, async (t) => {
  const upstream = new TestBroker();
  await upstream.start();
  t.after(() => upstream.stop());
  const r = await crashScenario(
    { url: upstream.url, start: () => upstream.start(), stop: () => upstream.stop(), payloads: () => upstream.messages() },
    { kills: 3, outages: 2, rate: 400, devices: 4, checkpointMinEntries: 0 }, // a checkpoint between kills: restores are tested too
  );
  t.diagnostic(JSON.stringify(r));
});
