import { newId } from '../shared/ids.ts';
import type { TaskRecord, TaskSpec } from './types.ts';

/** The record of a task just submitted: queued, on no agent, with a fresh time-ordered id. */
export function newQueuedTask(spec: TaskSpec, now: Date, id: string = newId('t', now.getTime())): TaskRecord {
  return {
    id,
    spec,
    state: 'queued',
    agentId: null,
    allocation: null,
    exitCode: null,
    reason: null,
    waitingReason: null,
    limits: null,
    killRequested: false,
    createdAt: now.toISOString(),
    stagedAt: null,
    startedAt: null,
    finishedAt: null,
    restarts: 0,
    restartAt: null,
    health: null,
    ready: null,
    probeMessage: null,
    result: null,
    address: null,
    version: 1,
  };
}
