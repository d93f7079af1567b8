// Batch job definitions and their dependency graph: pure code, no store, no HTTP.
export {
  JOB_DEFAULTS,
  parseJobDefinition,
  type ConcurrencyPolicy,
  type ContainerSpec,
  type ContainerVolume,
  type EnvironmentVariable,
  type FetchItem,
  type JobDefinition,
  type JobSource,
  type JobTiming,
  type ParseOptions,
  type RetryBackoff,
  type Schedule,
  type TaskConstraint,
  type TriggerRule,
} from './definition.ts';
export { CHRONOS_OUTPUT_FIELDS, CONCURRENCY_POLICIES, TRIGGER_RULES } from './definition-schema.ts';
export { MAX_JOB_NAME_LENGTH, jobNameProblem } from './job-name.ts';
export type { Problem } from './problems.ts';
export { taskForRun, type RunInfo, type TaskForRun } from './to-task.ts';
export { JobGraph } from './graph.ts';
export type { ChildChange, ParentRemoval } from './parent-removal.ts';
export { lastStateOf, type CurrentState, type JobRunStatus, type LastState } from './graph-export.ts';
