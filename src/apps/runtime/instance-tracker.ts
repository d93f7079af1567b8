// The apps' instances as the pool has them: every task whose owner is `app:<id>:<instance>`, listed
// once and then watched from the list's cursor (cluster/index.ts list-then-watch), so that a restarted
// master knows every instance again before it decides anything, and no change is missed. The pool is
// the instances' only record: an instance is its task while the task has not ended. Changes are told
// per app (onChange) for the app's reconcile to run; a change older than the one held (the watch may
// repeat what the list showed) is ignored.
import { TERMINAL_STATES, parseOwner, type ClusterClient, type TaskRecord } from '../../cluster/index.ts';
import { Gone } from '../../shared/errors.ts';
import { APP_OWNER_KIND } from '../instances/owner.ts';

export interface TrackedInstance {
  appId: string;
  instanceId: string;
  /** The app version it was launched with (MARATHON_APP_VERSION in its environment). */
  version: string;
  task: TaskRecord;
}

/** The last task of an app that ended badly (Marathon's lastTaskFailure). */
export interface TaskFailure {
  taskId: string;
  state: TaskRecord['state'];
  message: string;
  timestamp: string;
  version: string;
  host: string;
  agentId: string | null;
}

const PREFIX = `${APP_OWNER_KIND}:`;
/** Queued (waiting for room), staging and running: an instance until its task ends. */
const NOT_ENDED = ['queued', 'staging', 'running'] as const;

export function instanceOf(task: TaskRecord): TrackedInstance | null {
  const { kind, parts } = parseOwner(task.spec.owner);
  if (kind !== APP_OWNER_KIND || parts.length !== 2) return null;
  return { appId: parts[0]!, instanceId: parts[1]!, version: task.spec.env.MARATHON_APP_VERSION ?? '', task };
}

export class InstanceTracker {
  /** Active instances by app, then by task id. */
  private readonly byApp = new Map<string, Map<string, TrackedInstance>>();
  private readonly failures = new Map<string, TaskFailure>();
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly cluster: ClusterClient,
    /** Called for each change of an app's instances (a task started, changed health, ended). */
    private readonly onChange: (appId: string, instance: TrackedInstance, ended: boolean) => void,
  ) {}

  /** Lists every app task, then follows them; resolves once the list is held. */
  async start(): Promise<void> {
    for (;;) {
      const { tasks, cursor } = await this.cluster.list(PREFIX, { states: NOT_ENDED });
      for (const task of tasks) this.take(task, false);
      try {
        this.unwatch = this.cluster.watch(PREFIX, (task) => this.take(task, true), { since: cursor });
        return;
      } catch (err) {
        if (!(err instanceof Gone)) throw err; // the pool moved on while we listed: list again
      }
    }
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = undefined;
  }

  /** A task just submitted: held at once, before its first change comes through the watch. */
  add(task: TaskRecord): void {
    this.take(task, false);
  }

  instancesOf(appId: string): TrackedInstance[] {
    return [...(this.byApp.get(appId)?.values() ?? [])];
  }

  /** The instance whose task this is, while it has not ended. */
  instanceByTask(taskId: string): TrackedInstance | undefined {
    for (const tasks of this.byApp.values()) {
      const found = tasks.get(taskId);
      if (found) return found;
    }
    return undefined;
  }

  appIds(): string[] {
    return [...this.byApp.keys()];
  }

  lastFailure(appId: string): TaskFailure | null {
    return this.failures.get(appId) ?? null;
  }

  private take(task: TaskRecord, notify: boolean): void {
    const instance = instanceOf(task);
    if (!instance) return;
    let tasks = this.byApp.get(instance.appId);
    const held = tasks?.get(task.id);
    if (held && held.task.version > task.version) return; // older than what we have
    const ended = TERMINAL_STATES.has(task.state);
    if (ended) {
      if (!held && !notify) return;
      tasks?.delete(task.id);
      if (tasks?.size === 0) this.byApp.delete(instance.appId);
      if (task.state === 'failed' || task.state === 'lost' || (task.state === 'killed' && !task.killRequested)) {
        this.failures.set(instance.appId, {
          taskId: task.id,
          state: task.state,
          message: task.reason ?? task.state,
          timestamp: task.finishedAt ?? task.createdAt,
          version: instance.version,
          host: task.allocation?.host ?? '',
          agentId: task.agentId,
        });
      }
    } else {
      if (!tasks) this.byApp.set(instance.appId, (tasks = new Map()));
      tasks.set(task.id, instance);
    }
    if (notify) this.onChange(instance.appId, instance, ended);
  }
}
