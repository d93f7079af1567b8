// A real Master on a real SQLite store in a temporary directory, with its clock and timers in the
// test's hands (ManualTime), and agents that are the test itself: registered through master.register()
// and speaking the agent protocol (pollOrders, reportStatus) exactly as src/cluster/agent does, without
// processes or drivers. Shared by the master, batch scheduler and CI run engine tests.
import path from 'node:path';
import { pino } from 'pino';
import { clusterClient, type ClusterClient } from '../../src/cluster/index.ts';
import { Master, type TaskEvent } from '../../src/cluster/master/master.ts';
import { TaskLogStore } from '../../src/cluster/master/task-logs.ts';
import { ClusterStore } from '../../src/cluster/store/cluster-store.ts';
import type { Order, Registration, StatusReport } from '../../src/cluster/protocol.ts';
import { parseResources } from '../../src/cluster/resources/parse.ts';
import type { TaskRecord } from '../../src/cluster/types.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import type { ManualTime } from './manual-time.ts';
import { tempDir } from './temp-dirs.ts';

export const SILENT = pino({ level: 'silent' });

export interface TestMaster {
  master: Master;
  store: Store;
  cluster: ClusterClient;
  close(): Promise<void>;
}

/** Opens a store in a new temporary directory and starts a master on it, timed by `time`. */
export async function startTestMaster(time: ManualTime, options: { heartbeatTimeoutMs?: number } = {}): Promise<TestMaster> {
  const dataDir = tempDir('manual-master');
  const store = await openStore({ dataDir });
  const master = new Master({
    store: new ClusterStore(store.knex),
    logs: new TaskLogStore(path.join(dataDir, 'logs')),
    clock: time,
    timers: time,
    rng: () => 0.5,
    logger: SILENT,
    defaultStrategy: 'binpack',
    heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 30_000,
  });
  await master.start();
  return {
    master,
    store,
    cluster: clusterClient(master),
    close: async () => {
      await master.stop();
      await store.close();
    },
  };
}

/** What an agent running as root with the default settings registers with. */
function registration(hostname: string, resources: string, runningTaskIds: string[]): Registration {
  return { hostname, resources: parseResources(resources), attributes: {}, drivers: ['exec'], runningTaskIds, ...DEFAULT_TASK_USERS };
}
// Kept out of the literal above: the field is new in the protocol (TaskSpec.user).
const DEFAULT_TASK_USERS = { taskUsers: ['gantry-task'] };

/**
 * An agent played by the test: what src/cluster/agent/agent.ts says to the master, in the test's
 * order. It lists the tasks it was told to launch until it reports their end, as the real agent does.
 */
export class ScriptedAgent {
  readonly running = new Set<string>();

  private constructor(
    readonly master: Master,
    readonly id: string,
    readonly hostname: string,
    private readonly resources: string,
  ) {}

  static async register(master: Master, hostname: string, resources = 'cpus:8;mem:16384;disk:100000'): Promise<ScriptedAgent> {
    const result = await master.register(registration(hostname, resources, []), false);
    return new ScriptedAgent(master, result.agentId, hostname, resources);
  }

  /** The agent's process starts again and registers as the same agent, listing the tasks it still runs. */
  async registerAgain(): Promise<void> {
    await this.master.register({ ...registration(this.hostname, this.resources, [...this.running]), agentId: this.id }, false);
  }

  /** One poll that does not wait (a heartbeat): the orders as the master gives them. */
  poll(waitMs = 0): Promise<Order[]> {
    return this.master.pollOrders(this.id, [...this.running], waitMs);
  }

  /** Polls, takes every launch order (reports the task running, as the agent does once it started) and returns the orders. */
  async pollAndStart(): Promise<Order[]> {
    const orders = await this.poll();
    for (const order of orders) {
      if (order.type !== 'launch') continue;
      this.running.add(order.taskId);
      await this.report({ taskId: order.taskId, state: 'running' });
    }
    return orders;
  }

  /** Reports a task's state; an end takes it off the agent's list. */
  async report(report: StatusReport): Promise<void> {
    await this.master.reportStatus(this.id, report);
    if (report.state !== 'running' && report.state !== 'restarting') this.running.delete(report.taskId);
  }

  finish(taskId: string, exitCode = 0): Promise<void> {
    return this.report({ taskId, state: exitCode === 0 ? 'finished' : 'failed', exitCode });
  }
}

/**
 * Resolves with the task once `holds` is true of it: now, or at the master's next event about it.
 * The wait is for the master's event, not for time; it fails after `timeoutMs` of real time.
 */
export function taskWhere(master: Master, taskId: string, holds: (task: TaskRecord) => boolean, timeoutMs = 5_000): Promise<TaskRecord> {
  return new Promise((resolve, reject) => {
    let last: TaskRecord | undefined;
    const done = (task: TaskRecord): void => {
      clearTimeout(timer);
      master.events.off('task', onTask);
      resolve(task);
    };
    const onTask = ({ task }: TaskEvent): void => {
      if (task.id !== taskId) return;
      last = task;
      if (holds(task)) done(task);
    };
    const timer = setTimeout(() => {
      master.events.off('task', onTask);
      reject(new Error(`task ${taskId} never got there; last seen: ${last ? `${last.state} (${last.reason ?? last.waitingReason ?? ''})` : 'no event'}`));
    }, timeoutMs);
    master.events.on('task', onTask);
    void master.getTask(taskId).then((task) => {
      last ??= task;
      if (holds(task)) done(task);
    }, reject);
  });
}
