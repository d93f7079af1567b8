// What the rest of Gantry uses of pipeline definitions. Pure code: no store, no HTTP, no processes
// (loadPipelineDirectory only reads files).
export type { Concurrency, GlobFilter, Pipeline, PullRequestTriggers, PushEvent, PushTriggers, Step, StepCondition, StepContext, StepBuild, StepDeploy, StepEvent, StepResources, StepStatus } from './types.ts';
export type { PipelineProblem } from './problems.ts';
export type { ParseOptions } from './parse-pipeline.ts';
export type { LoadedPipelines } from './load-directory.ts';
export type { PushDecision } from './push-filter.ts';
export { parsePipeline } from './parse-pipeline.ts';
export { loadPipelineDirectory } from './load-directory.ts';
export { matchesPullRequest, matchesPush } from './push-filter.ts';
export { stepRunsWhen } from './step-conditions.ts';
export { stepOrder, stepDependents } from './dag.ts';
export { secretNames, concurrencyGroupFor } from './run-values.ts';
