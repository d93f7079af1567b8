// What the rest of Gantry may use of the cluster: batch, CI and apps hand tasks to the pool through
// this surface (submit, kill, watch) and import nothing else from src/cluster/. The API server and the
// CLI also reach the pool only through here (test/architecture/imports.test.ts): the master and its
// log store as the server drives them, the task spec's parser, and the parsers of the Mesos syntax.
import type { Master, TaskEvent } from './master/master.ts';
import type { StoredChunk } from './master/task-logs.ts';
import type { TaskUsageFigures } from './master/usage-figures.ts';
import { parseTaskSpec, type TaskSubmission } from './task-spec.ts';
import { TERMINAL_STATES, type TaskRecord } from './types.ts';

export type { TaskSubmission } from './task-spec.ts';
/** A task as clients may see it, without its secrets (TaskSpec.redact): for any API that shows tasks. */
export { redactedSpec, redactedTask } from './redacted-task.ts';
export type * from './types.ts';
/** The task states as values: clients test a task's state against these, not lists of their own. */
export { ACTIVE_STATES, TASK_STATES, TERMINAL_STATES } from './types.ts';
export { ownerPrefix, parseOwner, taskOwner } from './owner.ts';
export type { TaskChange } from './master/task-changes.ts';
/** For the API server and the CLI (the composition root builds them; other domains use ClusterClient). */
export type { AgentWithUsage, Master, TaskEvent } from './master/master.ts';
export type { StoredChunk, TaskLogStore } from './master/task-logs.ts';
export type { TaskUsageFigures } from './master/usage-figures.ts';
export type { Registration, RegistryAccess } from './protocol.ts';
export type { OutputChunk } from './drivers/driver.ts';
export { parseTaskSpec, USER_NAME, USER_NAME_RULE } from './task-spec.ts';
export { CONTAINER_NETWORKS } from './types.ts';
/** Container networks by name (TaskSpec.network): the rule on names, for clients that check theirs first. */
export { NETWORK_NAME_RULE, networkNameProblem } from './container-network.ts';
export { formatAttributes, parseConstraint } from './resources/parse.ts';
/** Constraints as Marathon and Chronos write them (`[field, OPERATOR, value]`, EQUALS) in the pool's form. */
export { mapConstraint, type TaskConstraint } from './resources/marathon-constraints.ts';
export { prewarmImage } from './master/prewarm.ts';

/** Tasks listed, with the cursor to watch from so that no change after the list is missed. */
export interface TaskList {
  tasks: TaskRecord[];
  cursor: string;
}

export interface ClusterClient {
  /** Queues a task; `owner` (`job:NAME:RUN`, `ci:RUN:STEP`, `app:ID:INSTANCE`) decides its retries. */
  submit(owner: string, submission: TaskSubmission): Promise<TaskRecord>;
  /**
   * Throws what submit would refuse the task for (Invalid: a bad spec or a user no agent allows;
   * Unsatisfiable 422: resources no agent could ever hold), storing nothing: a client checks a
   * definition before it records it.
   */
  check(owner: string, submission: TaskSubmission): void;
  kill(taskId: string, reason?: string): Promise<TaskRecord>;
  get(taskId: string): Promise<TaskRecord>;
  /**
   * Every task ever submitted with exactly this owner, oldest first: after a crash between submit()
   * and recording the task's id, the owner finds out whether its task exists.
   */
  findByOwner(owner: string): Promise<TaskRecord[]>;
  /**
   * The tasks whose owner starts with `ownerPrefix` (`app:web:`), oldest first, in the given states
   * (all by default), and the cursor to watch from: list, then watch({since: cursor}).
   */
  list(ownerPrefix: string, options?: { states?: readonly TaskRecord['state'][] }): Promise<TaskList>;
  /** The hostname an agent registered with (for `hostname:IS:` constraints that follow a task's agent). */
  agentHostname(agentId: string | null): Promise<string | null>;
  /**
   * Calls `listener` on every change of a task whose owner starts with `ownerPrefix`, with the cursor
   * after that change. With `since` (a cursor from list() or an earlier change), the changes after it
   * are given first, before watch() returns, then the live ones: none missed, a change the list
   * already showed possibly given again. Throws Gone (410) when `since` is too old (the master keeps
   * the last 10,000 changes of this run): list again. Returns an unsubscribe.
   */
  watch(ownerPrefix: string, listener: (task: TaskRecord, cursor: string) => void, options?: { since?: string }): () => void;
  /**
   * A task's output (stdout and stderr chunks in the order they were written), from the start or from
   * `fromOffset` (the `endOffset` of a chunk read before). With `follow`, it waits for more until the
   * task has ended and all its output was read. A capped log starts with a notice of what was cut;
   * a log removed by retention throws LogRemoved (a Gone, 410).
   */
  logs(taskId: string, options?: { follow?: boolean; fromOffset?: number; signal?: AbortSignal }): AsyncIterable<StoredChunk>;
  /** What a running task uses, as its agent last sampled it; null before the first sample and once it ended. */
  usage(taskId: string): TaskUsageFigures | null;
}

export function clusterClient(master: Master): ClusterClient {
  return {
    submit: async (owner, submission) => master.submit(parseTaskSpec({ ...submission, owner }, owner)),
    check: (owner, submission) => master.checkSubmission(parseTaskSpec({ ...submission, owner }, owner)),
    kill: (taskId, reason) => master.kill(taskId, reason),
    get: (taskId) => master.getTask(taskId),
    findByOwner: (owner) => master.listTasks({ owner, order: 'oldest' }),
    async list(ownerPrefix, options = {}) {
      // The cursor before the read: a change during the read is then given again by the watch, never lost.
      const cursor = master.changes.cursor;
      const tasks = await master.listTasks({ ownerPrefix, order: 'oldest', ...(options.states ? { states: options.states } : {}) });
      return { tasks, cursor };
    },
    agentHostname: async (agentId) => (agentId ? ((await master.findAgent(agentId))?.hostname ?? null) : null),
    watch(ownerPrefix, listener, options = {}) {
      // Replayed and subscribed in one turn of the event loop: no change can fall in between.
      const missed = options.since !== undefined ? master.changes.since(options.since) : [];
      for (const change of missed) if (change.task.spec.owner.startsWith(ownerPrefix)) listener(change.task, change.cursor);
      const onTask = ({ task, cursor }: TaskEvent): void => {
        if (task.spec.owner.startsWith(ownerPrefix)) listener(task, cursor);
      };
      master.events.on('task', onTask);
      return () => master.events.off('task', onTask);
    },
    logs(taskId, options = {}) {
      const isComplete = async (): Promise<boolean> => TERMINAL_STATES.has((await master.getTask(taskId)).state);
      return master.logs.read(taskId, {
        follow: options.follow ?? false,
        isComplete,
        ...(options.fromOffset !== undefined ? { fromOffset: options.fromOffset } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    },
    usage: (taskId) => master.usage.of(taskId),
  };
}
