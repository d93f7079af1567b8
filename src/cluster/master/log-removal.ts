// A task whose log files were removed (by retention, log-retention.ts) reads as that, not as a task
// that wrote nothing: its readers get a 410 saying when and why. Where removals are recorded (the
// task's row) is the store's business; the log store asks through LogRemovals.
import { GantryError } from '../../shared/errors.ts';

export interface LogRemoval {
  /** When the files were removed (ISO 8601). */
  at: string;
  /** Why, as it reads after "removed": e.g. "by retention 7d after the task ended". */
  reason: string;
}

export interface LogRemovals {
  logRemoval(taskId: string): Promise<LogRemoval | null>;
}

export class LogRemoved extends GantryError {
  constructor(taskId: string, removal: LogRemoval) {
    super('gone', 410, `the log of task ${taskId} was removed ${removal.reason} (at ${removal.at})`, removal);
  }
}
