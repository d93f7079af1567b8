// The task lifecycle as the master records it: a submission becomes a queued task, a kill ends a
// queued task at once or asks its agent, and a task's run (with its address on a container network),
// restarts, probe verdicts and end are written as compare-and-sets on the state the task must be in
// (cluster/store/tasks.ts), so a stale or repeated report changes nothing. Each change that took is
// announced; an end also gives the task's resources back and lets the placement loop run.
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.ts';
import { Conflict, Unsatisfiable } from '../../shared/errors.ts';
import { newQueuedTask } from '../new-task.ts';
import type { ClusterState } from '../placement/cluster-state.ts';
import type { Finish, ProbeVerdicts, Restart, TaskQuery, TaskRepository } from '../store/cluster-store.ts';
import { TERMINAL_STATES, type TaskRecord, type TaskSpec } from '../types.ts';
import type { AgentMailbox } from './agent-mailbox.ts';
import type { PlacementLoop } from './placement-loop.ts';
import type { TaskAnnouncer } from './task-announcer.ts';
import type { TaskLogStore } from './task-logs.ts';
import { checkTaskUser } from './task-user-check.ts';
import type { UsageFigures } from './usage-figures.ts';

export interface TaskLifecycleOptions {
  tasks: TaskRepository;
  state: ClusterState;
  placement: PlacementLoop;
  mailbox: AgentMailbox;
  announcer: TaskAnnouncer;
  logs: Pick<TaskLogStore, 'forget'>;
  usage: UsageFigures;
  /** The users each agent (not gone) lets its tasks run as (kept by AgentLiveness). */
  taskUsers: ReadonlyMap<string, readonly string[]>;
  clock: Clock;
  log: Logger;
}

export class TaskLifecycle {
  /** Submitted tasks waiting for their insert (see insertSoon). */
  private pendingInserts: Array<{ task: TaskRecord; resolve: () => void; reject: (err: Error) => void }> = [];

  constructor(private readonly options: TaskLifecycleOptions) {}

  /** Records a task as queued and lets the placement loop find it an agent. */
  async submit(spec: TaskSpec): Promise<TaskRecord> {
    const { placement } = this.options;
    this.check(spec);
    const task = newQueuedTask(spec, this.options.clock.now());
    await this.insertSoon(task);
    placement.add(task);
    this.options.log.info({ task: task.id, owner: spec.owner, name: spec.name }, 'task queued');
    this.options.announcer.emit(task);
    placement.schedule();
    return task;
  }

  /**
   * Throws what submit would refuse the task for: a user no agent allows (Invalid), or resources no
   * agent could ever hold (Unsatisfiable, with the pool's reason). With no agent yet, anything may fit.
   */
  check(spec: TaskSpec): void {
    const { state } = this.options;
    checkTaskUser(spec, this.options.taskUsers);
    const impossible = state.agents().length > 0 ? state.fitsAnyAgentTotal(spec) : null;
    if (impossible) throw new Unsatisfiable(`task can never be placed: ${impossible}`);
  }

  /**
   * Inserts the task together with the others submitted in the same turn of the event loop (a batch
   * tick, a CI run's ready steps): one statement instead of one round trip each, and one placement
   * round for all of them. A failed batch is retried one by one, so each caller gets its own answer.
   */
  private insertSoon(task: TaskRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pendingInserts.push({ task, resolve, reject });
      if (this.pendingInserts.length === 1) setImmediate(() => void this.flushInserts());
    });
  }

  private async flushInserts(): Promise<void> {
    const { tasks } = this.options;
    const batch = this.pendingInserts;
    this.pendingInserts = [];
    try {
      if (batch.length === 1) await tasks.insert(batch[0]!.task);
      else await tasks.insertMany(batch.map((b) => b.task));
      for (const b of batch) b.resolve();
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err as Error);
      for (const b of batch) await tasks.insert(b.task).then(b.resolve, b.reject);
    }
  }

  get(id: string): Promise<TaskRecord> {
    return this.options.tasks.get(id);
  }

  list(query: TaskQuery): Promise<TaskRecord[]> {
    return this.options.tasks.list(query);
  }

  /** Kills a task: a queued one at once, an active one through its agent. Killing a finished task is a conflict. */
  async kill(id: string, reason: string): Promise<TaskRecord> {
    const { tasks } = this.options;
    const task = await tasks.get(id);
    if (TERMINAL_STATES.has(task.state)) throw new Conflict(`task ${id} has already ended (${task.state})`);
    if (task.state === 'queued' && (await tasks.killQueued(id, reason, this.now()))) {
      this.options.placement.remove(id);
      return this.afterChange(id);
    }
    if (await tasks.requestKill(id, reason)) {
      const updated = await this.afterChange(id);
      if (updated.agentId) this.options.mailbox.notify(updated.agentId);
      return updated;
    }
    // It changed state between the read and the write: report what it is now.
    return tasks.get(id);
  }

  /**
   * staging → running, as the task's agent reports it, with its address on its container network when
   * it has one; null when it was not staging on that agent.
   */
  async markRunning(taskId: string, agentId: string, limits: string | null, address: string | null = null): Promise<TaskRecord | null> {
    const running = await this.options.tasks.markRunning(taskId, agentId, limits, this.now(), address);
    if (!running) return null;
    this.options.log.info({ task: running.id, agent: agentId, ...(address !== null ? { address } : {}) }, 'task running');
    this.options.announcer.changed(running);
    return running;
  }

  /** A running task's run has a new address on its container network (a restart's next run, a recovered container). */
  async recordAddress(task: TaskRecord, agentId: string, address: string): Promise<void> {
    if (task.address === address) return;
    const updated = await this.options.tasks.recordAddress(task.id, agentId, address);
    if (!updated) return;
    this.options.log.info({ task: task.id, address }, 'task address on its container network');
    this.options.announcer.changed(updated);
  }

  /** A run of a task with a restart policy ended and its agent runs it again later: one write. */
  async recordRestart(task: TaskRecord, agentId: string, restart: Restart, limits?: string): Promise<void> {
    const updated = await this.options.tasks.recordRestart(task.id, agentId, restart, limits);
    if (!updated) return;
    this.options.log.info({ task: task.id, restarts: restart.restarts, restartAt: restart.restartAt }, `task restarting: ${restart.reason}`);
    this.options.announcer.changed(updated);
  }

  /** A change of a running task's probe verdicts: recorded and told, unless it is no longer running there. */
  async recordProbe(taskId: string, agentId: string, verdicts: ProbeVerdicts): Promise<void> {
    const updated = await this.options.tasks.recordProbe(taskId, agentId, verdicts);
    if (!updated) return; // it ended meanwhile, or is not this agent's
    this.options.log.info({ task: taskId, health: verdicts.health, ready: verdicts.ready }, verdicts.message);
    this.options.announcer.changed(updated);
  }

  /**
   * An active task ends (its agent's report, or the master's decision: lost). Its resources, log writer
   * and usage figures are let go and the placement loop runs. A task no longer active there is left.
   */
  async finish(task: TaskRecord, finish: Finish, limits?: string): Promise<void> {
    if (!task.agentId) return;
    const finished = await this.options.tasks.finish(task.id, task.agentId, finish, this.now(), limits);
    if (!finished) return;
    this.options.state.release(task.id);
    this.options.logs.forget(task.id);
    this.options.usage.forget(task.id);
    this.options.log.info({ task: task.id, state: finish.state, exitCode: finish.exitCode }, `task ${finish.state}: ${finish.reason}`);
    this.options.announcer.changed(finished);
    this.options.placement.schedule();
  }

  private async afterChange(taskId: string): Promise<TaskRecord> {
    const task = await this.options.tasks.get(taskId);
    this.options.announcer.changed(task);
    return task;
  }

  private now(): string {
    return this.options.clock.now().toISOString();
  }
}
