import { pipelineSchema, type PipelineSpec } from '../config/pipeline.js';

/** What `replay` and `backtest` run without --pipeline: the default detector on every stream, raw readings. */
export function defaultPipeline(): PipelineSpec {
  return pipelineSchema().parse({
    name: 'default',
    description: 'The default anomaly detector on every stream.',
    input: { streams: ['**'] },
    steps: [{ detect: { detector: 'default' } }],
  });
}
