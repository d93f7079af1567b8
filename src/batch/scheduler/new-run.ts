// A run record as it starts life, and the run key of a scheduled occurrence.
import type { Occurrence } from '../schedule/index.ts';
import type { RunRecord } from '../store/batch-store.ts';

/** Unique per job and occurrence: the store refuses a second run of the same scheduled time. */
export function scheduleKey(occurrence: Occurrence): string {
  return `schedule:${occurrence.at.toISOString()}`;
}

export function newRun(id: string, jobName: string, runKey: string, trigger: RunRecord['trigger'], scheduledAt: Date, createdAt: Date = scheduledAt): RunRecord {
  return {
    id,
    jobName,
    runKey,
    trigger,
    scheduledAt: scheduledAt.toISOString(),
    state: 'pending',
    attempt: 0,
    taskId: null,
    taskIds: [],
    retryAt: null,
    createdAt: createdAt.toISOString(),
    startedAt: null,
    finishedAt: null,
    exitCode: null,
    reason: null,
  };
}
