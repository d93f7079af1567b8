// What the rest of Gantry uses of the batch scheduler: the service (jobs, runs, statistics, graph)
// and the types its answers carry.
export { BatchService, type BatchServiceOptions, type JobDetails, type JobStatistics, type SavedJob } from './batch-service.ts';
export type { JobStats, RunRecord, RunState, RunTrigger } from './store/batch-store.ts';
export type { ChildChange } from './jobs/index.ts';
