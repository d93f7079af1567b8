// An app's instances as the pool's tasks: who owns them, what one submits, and what the pool cannot run.
export { APP_OWNER_KIND, appOwnerPrefix, appTaskGroup, groupOwnerPrefix, instanceOwner } from './owner.ts';
export { poolGaps } from './pool-gaps.ts';
export { taskForInstance, type InstanceInfo, type InstanceTask } from './to-task.ts';
