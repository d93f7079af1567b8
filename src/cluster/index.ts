// What the rest of Gantry may use of the cluster: batch, CI and apps hand tasks to the pool through
// this surface (submit, kill, watch) and import nothing else from src/cluster/.
import type { Master, TaskEvent } from './master/master.ts';
import { parseTaskSpec, type TaskSubmission } from './task-spec.ts';
import type { TaskRecord } from './types.ts';

export type { TaskSubmission } from './task-spec.ts';
/** A task as clients may see it, without its secrets (TaskSpec.redact): for any API that shows tasks. */
export { redactedSpec, redactedTask } from './redacted-task.ts';
export type * from './types.ts';

export interface ClusterClient {
  /** Queues a task; `owner` (`job:NAME:RUN`, `ci:RUN:STEP`, `app:ID:INSTANCE`) decides its retries. */
  submit(owner: string, submission: TaskSubmission): Promise<TaskRecord>;
  kill(taskId: string, reason?: string): Promise<TaskRecord>;
  get(taskId: string): Promise<TaskRecord>;
  /**
   * Every task ever submitted with exactly this owner, oldest first: after a crash between submit()
   * and recording the task's id, the owner finds out whether its task exists.
   */
  findByOwner(owner: string): Promise<TaskRecord[]>;
  /** The hostname an agent registered with (for `hostname:IS:` constraints that follow a task's agent). */
  agentHostname(agentId: string | null): Promise<string | null>;
  /** Calls `listener` on every change of a task whose owner starts with `ownerPrefix`. Returns an unsubscribe. */
  watch(ownerPrefix: string, listener: (task: TaskRecord) => void): () => void;
}

export function clusterClient(master: Master): ClusterClient {
  return {
    submit: async (owner, submission) => master.submit(parseTaskSpec({ ...submission, owner }, owner)),
    kill: (taskId, reason) => master.kill(taskId, reason),
    get: (taskId) => master.getTask(taskId),
    findByOwner: (owner) => master.listTasks({ owner, order: 'oldest' }),
    agentHostname: async (agentId) => (agentId ? ((await master.findAgent(agentId))?.hostname ?? null) : null),
    watch(ownerPrefix, listener) {
      const onTask = ({ task }: TaskEvent): void => {
        if (task.spec.owner.startsWith(ownerPrefix)) listener(task);
      };
      master.events.on('task', onTask);
      return () => master.events.off('task', onTask);
    },
  };
}
