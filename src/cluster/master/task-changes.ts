// The master's recent task changes, numbered, so that a client can list tasks, then watch from the
// list's cursor without missing a change, and resume from its last cursor after its own restart
// (etcd's revisions, Kubernetes' resourceVersion). Kept in memory, the last `capacity` of them: a
// cursor from before those, or from an earlier run of the master, is refused (Gone) and the client
// lists again. A change carries the task as it is after it: replaying one twice is harmless.
import { Gone, Invalid } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import type { TaskRecord } from '../types.ts';

export interface TaskChange {
  /** Where a watch resumes to get the changes after this one. */
  cursor: string;
  task: TaskRecord;
}

export const DEFAULT_CHANGES_KEPT = 10_000;

export class TaskChanges {
  private seq = 0;
  /** The kept changes, oldest first; `kept[i]` has number `firstSeq + i`. */
  private kept: TaskChange[] = [];
  private firstSeq = 1;

  constructor(
    private readonly capacity = DEFAULT_CHANGES_KEPT,
    /** Tells this run of the master from earlier ones, whose cursors mean nothing here. */
    private readonly epoch = newId('w'),
  ) {}

  /** The cursor of the latest change: a watch from it gets every change after now. */
  get cursor(): string {
    return `${this.epoch}.${this.seq}`;
  }

  record(task: TaskRecord): TaskChange {
    const change = { cursor: `${this.epoch}.${++this.seq}`, task };
    this.kept.push(change);
    // Dropped in slices, so that recording stays O(1) on average.
    if (this.kept.length > this.capacity + this.capacity / 4) {
      const drop = this.kept.length - this.capacity;
      this.kept = this.kept.slice(drop);
      this.firstSeq += drop;
    }
    return change;
  }

  /** The changes after `cursor`, oldest first. Gone when some of them are no longer kept. */
  since(cursor: string): TaskChange[] {
    const match = /^([A-Za-z0-9_-]+)\.(\d+)$/.exec(cursor);
    if (!match) throw new Invalid(`"${cursor}" is not a watch cursor (it looks like ${this.cursor})`);
    if (match[1] !== this.epoch) throw new Gone(`the cursor ${cursor} is from an earlier run of the master: list the tasks again and watch from the new cursor`);
    const after = Number(match[2]);
    if (after > this.seq) throw new Invalid(`the cursor ${cursor} is ahead of the latest change (${this.cursor})`);
    if (after + 1 < this.firstSeq) {
      throw new Gone(`the changes after ${cursor} are no longer kept (the last ${this.capacity} are): list the tasks again and watch from the new cursor`);
    }
    return this.kept.slice(after + 1 - this.firstSeq);
  }
}
