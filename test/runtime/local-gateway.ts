import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { parseGatewayText } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/log.js';
import type { Emission } from '../../src/core/records.js';
import { Gateway } from '../../src/runtime/gateway.js';
import { tempDir } from '../upstream/helpers.js';
import { freePort } from './helpers.js';

/**
 * A gateway in this process: an embedded broker on a free port, one pipeline (its YAML text), a
 * tick every 50 ms, a fast outbox commit; stopped and its folder removed after the test.
 */
export async function startLocalGateway(t: TestContext, id: string, pipelineYaml: string, onEmission: (e: Emission) => void): Promise<{ gateway: Gateway; url: string }> {
  const { dir, cleanup } = tempDir(`edgewise-${id}-`);
  const port = await freePort();
  writeFileSync(join(dir, 'pipeline.yaml'), pipelineYaml);
  const yaml = `
gateway: { id: ${id}, data_dir: data }
inputs:
  - { name: local, type: mqtt, broker: { port: ${port} } }
pipelines: [pipeline.yaml]
outbox: { commit_interval: 10ms }
`;
  const file = join(dir, 'edgewise.yaml');
  writeFileSync(file, yaml);
  const { config, pipelines } = parseGatewayText(yaml, file, {});
  const gateway = new Gateway({ config, pipelines: pipelines.map((p) => p.spec), baseDir: dir, log: silentLogger(), tickMs: 50, onEmission });
  t.after(async () => {
    await gateway.stop();
    cleanup();
  });
  await gateway.start();
  return { gateway, url: `mqtt://127.0.0.1:${port}` };
}
