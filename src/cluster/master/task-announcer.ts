// Every change of a task leaves the master the same way: numbered in TaskChanges (list-then-watch
// clients resume from its cursor), emitted as a 'task' event and, once the task has ended, its log
// followers woken. One place, so that no part of the master can change a task without telling.
import type { EventEmitter } from 'node:events';
import { TERMINAL_STATES, type TaskRecord } from '../types.ts';
import type { TaskChanges } from './task-changes.ts';
import type { TaskLogStore } from './task-logs.ts';

export interface TaskEvent {
  task: TaskRecord;
  /** Where a watch resumes to get the changes after this one (TaskChanges). */
  cursor: string;
}

export class TaskAnnouncer {
  constructor(
    private readonly events: EventEmitter,
    private readonly changes: TaskChanges,
    private readonly logs: Pick<TaskLogStore, 'notify'>,
  ) {}

  /** Tells the listeners what the task is now (a new waiting reason, a staging: it has not ended). */
  emit(task: TaskRecord): void {
    const { cursor } = this.changes.record(task);
    this.events.emit('task', { task, cursor } satisfies TaskEvent);
  }

  /** Tells the listeners (and the log followers of an ended task) what the task is now. */
  changed(task: TaskRecord): void {
    this.emit(task);
    if (TERMINAL_STATES.has(task.state)) this.logs.notify(task.id);
  }
}
