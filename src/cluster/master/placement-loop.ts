// The placement loop: the queued tasks, oldest first, matched to agents in memory (ClusterState), then
// recorded as staged in one store write per pass, and their agents woken to launch them. It runs soon
// after anything that may let a task fit (a submission, an agent joining, a task ending), one pass at
// a time; a task that did not fit is looked at again only once the pool changed.
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.ts';
import type { ClusterState } from '../placement/cluster-state.ts';
import type { Staging, TaskRepository } from '../store/cluster-store.ts';
import type { TaskRecord } from '../types.ts';
import type { AgentMailbox } from './agent-mailbox.ts';
import type { TaskAnnouncer } from './task-announcer.ts';

export interface PlacementLoopOptions {
  tasks: TaskRepository;
  state: ClusterState;
  mailbox: AgentMailbox;
  announcer: TaskAnnouncer;
  clock: Clock;
  log: Logger;
}

export class PlacementLoop {
  /** Queued tasks in submission order; the durable copy is in the store. */
  private readonly queue = new Map<string, TaskRecord>();
  /** Queued task → the pool generation at which it last failed to fit. */
  private readonly failedAtGeneration = new Map<string, number>();
  private placing = false;
  private placeAgain = false;
  private stopped = false;
  /** The pass under way, if any. */
  private pass: Promise<void> = Promise.resolve();

  constructor(private readonly options: PlacementLoopOptions) {}

  /**
   * At start: the active tasks' resources are counted again (taken from their agents' free resources
   * once those poll again) and the queued tasks queued again, oldest first.
   */
  async restore(): Promise<void> {
    const { tasks, state } = this.options;
    for (const task of await tasks.list({ states: ['staging', 'running'], order: 'oldest' })) {
      if (task.agentId && task.allocation) {
        state.commit(task.id, task.agentId, task.spec.group, task.allocation);
      }
    }
    for (const task of await tasks.list({ states: ['queued'], order: 'oldest' })) {
      this.queue.set(task.id, task);
    }
  }

  /** A task recorded as queued, to be placed. */
  add(task: TaskRecord): void {
    this.queue.set(task.id, task);
  }

  /** A queued task that will not be placed (it was killed). */
  remove(taskId: string): void {
    this.queue.delete(taskId);
    this.failedAtGeneration.delete(taskId);
  }

  /** Queued tasks in placement order, each with why it waits. */
  queued(): TaskRecord[] {
    return [...this.queue.values()];
  }

  /** Runs the placement loop soon; calls while it runs make it run once more afterwards. */
  schedule(): void {
    if (this.stopped) return;
    if (this.placing) {
      this.placeAgain = true;
      return;
    }
    this.placing = true;
    this.pass = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => (this.stopped ? undefined : this.placeQueued()))
      .catch((err) => this.options.log.error({ err }, 'placement loop failed'))
      .finally(() => {
        this.placing = false;
        if (this.placeAgain) {
          this.placeAgain = false;
          this.schedule();
        }
      });
  }

  /** No pass after this; resolves once the one under way (if any) has ended, before the store closes. */
  async stop(): Promise<void> {
    this.stopped = true;
    while (this.placing) await this.pass;
  }

  /**
   * One pass over the queue, oldest first: decide and commit in memory, then record every placement
   * in the store at once. A task that did not fit is looked at again only once the pool changed.
   */
  private async placeQueued(): Promise<void> {
    const { tasks, state, mailbox, announcer, clock, log } = this.options;
    const placed: Staging[] = [];
    for (const task of this.queue.values()) {
      if (this.failedAtGeneration.get(task.id) === state.generation) continue;
      const result = state.place(task.spec);
      if (result.ok) {
        this.failedAtGeneration.delete(task.id);
        state.commit(task.id, result.agent.id, task.spec.group, result.allocation);
        // The task's address goes with its ports: clients reach it at host:port (discovery, health checks).
        placed.push({ id: task.id, agentId: result.agent.id, allocation: { ...result.allocation, host: result.agent.hostname } });
        continue;
      }
      this.failedAtGeneration.set(task.id, state.generation);
      if (task.waitingReason !== result.reason) {
        task.waitingReason = result.reason;
        await tasks.setWaitingReason(task.id, result.reason);
        announcer.emit(task);
      }
    }
    if (placed.length === 0) return;
    let staged: TaskRecord[];
    try {
      staged = await tasks.stageMany(placed, clock.now().toISOString());
    } catch (err) {
      for (const item of placed) state.release(item.id);
      throw err;
    }
    const stagedIds = new Set(staged.map((task) => task.id));
    for (const item of placed) {
      this.queue.delete(item.id);
      // Not staged: it was killed while we decided; give its resources back.
      if (!stagedIds.has(item.id)) state.release(item.id);
    }
    // Wake the agents first: their launches need not wait for the events below.
    for (const agentId of new Set(staged.map((task) => task.agentId!))) mailbox.notify(agentId);
    for (const task of staged) {
      log.info({ task: task.id, agent: task.agentId }, 'task staged');
      announcer.emit(task);
    }
  }
}
