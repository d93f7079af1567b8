// A task whose log files were removed (by retention, log-retention.ts) reads as that, not as a task
// that wrote nothing: its readers get a 410 saying when and why. Where removals are recorded (the
// task's row) is the store's business; the log store asks through LogRemovals.
import { Gone } from '../../shared/errors.ts';
import type { LogRemoval } from '../store/tasks.ts';

export type { LogRemoval } from '../store/tasks.ts';

export interface LogRemovals {
  logRemoval(taskId: string): Promise<LogRemoval | null>;
}

export class LogRemoved extends Gone {
  constructor(taskId: string, removal: LogRemoval) {
    super(`the log of task ${taskId} was removed ${removal.reason} (at ${removal.at})`, removal);
  }
}
