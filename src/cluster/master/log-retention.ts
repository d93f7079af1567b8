// Retention of finished tasks' logs: once a task has ended longer ago than the retention period
// (default 7 days, Mesos' gc_delay), its log files are removed and the task's row records that, so
// that its readers get "removed by retention" (LogRemoved, a 410) instead of an empty log. The rows
// stay: CI steps and batch runs keep their task ids as history (a step's log link, a run's attempts,
// their recovery after a restart), the API shows those tasks' ends, and a row is a few hundred bytes
// where a log may be its whole cap. Files and bytes count alike (inodes run out too): a sweep says
// how many of each it freed.
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.ts';
import type { LogRemoval } from './log-removal.ts';
import type { TaskLogStore } from './task-logs.ts';

export const DEFAULT_LOG_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
export const DEFAULT_LOG_SWEEP_INTERVAL_MS = 60 * 60 * 1000;
const SWEEP_BATCH = 200;

/** The tasks whose logs retention looks at, and where their removal is recorded (the store's tasks). */
export interface EndedTaskLogs {
  /** Ids of tasks that ended before `cutoff` (ISO 8601) with their logs still there, longest ended first. */
  endedWithLogsBefore(cutoff: string, limit: number, skip?: readonly string[]): Promise<string[]>;
  markLogsRemoved(ids: readonly string[], removal: LogRemoval): Promise<void>;
}

export interface SweepOptions {
  tasks: EndedTaskLogs;
  logs: Pick<TaskLogStore, 'remove'>;
  now: Date;
  retentionMs: number;
  batchSize?: number;
}

export interface SweepResult {
  /** Tasks whose logs were removed (some had no files: they wrote nothing). */
  tasks: number;
  files: number;
  bytes: number;
  /** Tasks whose files could not be removed (left for the next sweep), with why. */
  failed: Array<{ taskId: string; error: string }>;
}

/** Removes the logs of the tasks that ended more than `retentionMs` before `now`. */
export async function sweepTaskLogs(options: SweepOptions): Promise<SweepResult> {
  const result: SweepResult = { tasks: 0, files: 0, bytes: 0, failed: [] };
  const cutoff = new Date(options.now.getTime() - options.retentionMs).toISOString();
  const removal: LogRemoval = { at: options.now.toISOString(), reason: `by retention ${formatDuration(options.retentionMs)} after the task ended` };
  const batchSize = options.batchSize ?? SWEEP_BATCH;
  for (;;) {
    const ids = await options.tasks.endedWithLogsBefore(cutoff, batchSize, result.failed.map((f) => f.taskId));
    const removed: string[] = [];
    for (const taskId of ids) {
      try {
        const freed = await options.logs.remove(taskId);
        result.files += freed.files;
        result.bytes += freed.bytes;
        removed.push(taskId);
      } catch (err) {
        result.failed.push({ taskId, error: (err as Error).message });
      }
    }
    await options.tasks.markLogsRemoved(removed, removal);
    result.tasks += removed.length;
    if (ids.length < batchSize) return result;
  }
}

export interface LogRetentionOptions {
  tasks: EndedTaskLogs;
  logs: Pick<TaskLogStore, 'remove'>;
  clock: Clock;
  /** How long after a task ended its log is kept. Default 7 days. */
  retentionMs?: number;
  /** How often it sweeps. Default hourly. */
  intervalMs?: number;
  logger?: Pick<Logger, 'info' | 'warn'>;
}

/** Sweeps at start and then on an interval; one sweep at a time. */
export class LogRetention {
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<SweepResult> | null = null;
  readonly retentionMs: number;

  constructor(private readonly options: LogRetentionOptions) {
    this.retentionMs = options.retentionMs ?? DEFAULT_LOG_RETENTION_MS;
    if (!(this.retentionMs > 0)) throw new Error(`a log retention of ${this.retentionMs} ms keeps nothing`);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sweepLogged(), this.options.intervalMs ?? DEFAULT_LOG_SWEEP_INTERVAL_MS);
    this.timer.unref();
    void this.sweepLogged();
  }

  /** Stops the interval; resolves once a sweep under way is done. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.sweeping?.catch(() => undefined);
  }

  /** Sweeps now, or joins the sweep under way. */
  sweep(): Promise<SweepResult> {
    this.sweeping ??= sweepTaskLogs({ tasks: this.options.tasks, logs: this.options.logs, now: this.options.clock.now(), retentionMs: this.retentionMs }).finally(() => {
      this.sweeping = null;
    });
    return this.sweeping;
  }

  private async sweepLogged(): Promise<void> {
    try {
      const result = await this.sweep();
      if (result.tasks > 0) this.options.logger?.info({ tasks: result.tasks, files: result.files, bytes: result.bytes }, 'task logs past retention removed');
      for (const failure of result.failed) this.options.logger?.warn({ task: failure.taskId, err: failure.error }, 'could not remove a task log past retention');
    } catch (err) {
      this.options.logger?.warn({ err: (err as Error).message }, 'task log retention sweep failed');
    }
  }
}

/** 7 days as "7d", 36 hours as "36h": what the retention reads as in a removal's reason. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
