// Long-running apps (Marathon's model): what the rest of Gantry uses of src/apps/. A client of the pool
// through cluster/index.ts only, like batch/ and ci/.
export * from './definition/index.ts';
export * from './instances/index.ts';
export { AppsService, DEFAULT_PROGRESS_DEADLINE_SECONDS, type AppView, type AppsServiceOptions, type ChangeOptions, type ChangeResult, type DeploymentView, type QueueItem } from './apps-service.ts';
export { ImageRollout, type RolloutOutcome } from './image-rollout.ts';
export type { MarathonEvent } from './runtime/marathon-events.ts';
export { marathonTaskStatus } from './runtime/marathon-events.ts';
export type { TaskFailure } from './runtime/instance-tracker.ts';
export { parseSteps, type SwitchSettings } from './blue-green/switch-plan.ts';
export type { SwitchRecord } from './blue-green/switch-store.ts';
