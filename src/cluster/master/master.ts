// The master: the pool's agents, the task lifecycle and the placement loop that moves queued tasks
// onto agents. This class is the façade the rest of Gantry uses (the API, the embedded agent's link,
// ClusterClient); the work is in one module per job, wired here:
//   placement-loop.ts   queued tasks matched to agents, staged in one write per pass
//   agent-liveness.ts   registration, heartbeats, unreachable agents, draining
//   order-delivery.ts   an agent's poll: its heartbeat and its orders
//   task-lifecycle.ts   submit, kill, running, restarts, probe verdicts, ends
//   agent-reports.ts    status, output, probes, usage, disk usage and images from agents
//   task-announcer.ts   every task change numbered (changes) and emitted (events)
// Its durable state is the cluster's tables (cluster/store/); ClusterState is the in-memory view
// placement reads, rebuilt from them at start.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.ts';
import { systemTimers, type Timers } from '../../shared/timers.ts';
import { ClusterState } from '../placement/cluster-state.ts';
import type { OutputBatch, Order, ProbeReport, Registration, RegistrationResult, StatusReport, UsageReport } from '../protocol.ts';
import type { ClusterStore, TaskQuery } from '../store/cluster-store.ts';
import type { AgentRecord, DiskUsage, RankerName, TaskRecord, TaskSpec } from '../types.ts';
import { AgentMailbox } from './agent-mailbox.ts';
import { AgentLiveness, type AgentWithUsage } from './agent-liveness.ts';
import { AgentReports } from './agent-reports.ts';
import { OrderDelivery } from './order-delivery.ts';
import { PlacementLoop } from './placement-loop.ts';
import { TaskAnnouncer } from './task-announcer.ts';
import { TaskChanges } from './task-changes.ts';
import { TaskLifecycle } from './task-lifecycle.ts';
import type { TaskLogStore } from './task-logs.ts';
import { UsageFigures } from './usage-figures.ts';

export type { AgentWithUsage } from './agent-liveness.ts';
export type { TaskEvent } from './task-announcer.ts';

export interface MasterOptions {
  /** The cluster's tables (agents, tasks), on the knex handle main.ts opened. */
  store: ClusterStore;
  logs: TaskLogStore;
  clock: Clock;
  rng: () => number;
  logger: Logger;
  defaultStrategy: RankerName;
  heartbeatTimeoutMs: number;
  /** Longest a poll for orders waits; agents poll at least this often, which is their heartbeat. */
  pollWaitMs?: number;
  /** What runs the heartbeat checker (Node's timers by default). */
  timers?: Timers;
}

export class Master {
  readonly events = new EventEmitter();
  /** The recent task changes, numbered, for list-then-watch clients (ClusterClient.list and watch). */
  readonly changes = new TaskChanges();
  /** What each running task uses, as its agent last reported it. */
  readonly usage = new UsageFigures();
  /** The tasks' output as agents sent it (capped, retained: see task-logs.ts). */
  readonly logs: TaskLogStore;
  readonly pollWaitMs: number;
  private readonly mailbox = new AgentMailbox();
  private readonly placement: PlacementLoop;
  private readonly lifecycle: TaskLifecycle;
  private readonly liveness: AgentLiveness;
  private readonly delivery: OrderDelivery;
  private readonly reports: AgentReports;

  constructor(options: MasterOptions) {
    const { store, logs, clock } = options;
    const log = options.logger;
    this.logs = logs;
    const state = new ClusterState({ rng: options.rng, defaultStrategy: options.defaultStrategy });
    this.pollWaitMs = options.pollWaitMs ?? Math.min(20_000, Math.floor(options.heartbeatTimeoutMs / 3));
    this.events.setMaxListeners(0);
    const mailbox = this.mailbox;
    const announcer = new TaskAnnouncer(this.events, this.changes, logs);
    /** The users each agent (not gone) lets its tasks run as, for the submission check of TaskSpec.user. */
    const taskUsers = new Map<string, readonly string[]>();
    this.placement = new PlacementLoop({ tasks: store.tasks, state, mailbox, announcer, clock, log });
    this.lifecycle = new TaskLifecycle({ tasks: store.tasks, state, placement: this.placement, mailbox, announcer, logs, usage: this.usage, taskUsers, clock, log });
    this.liveness = new AgentLiveness({
      store,
      state,
      mailbox,
      placement: this.placement,
      lifecycle: this.lifecycle,
      logs,
      taskUsers,
      clock,
      timers: options.timers ?? systemTimers,
      log,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs,
      pollWaitMs: this.pollWaitMs,
    });
    this.delivery = new OrderDelivery({ tasks: store.tasks, liveness: this.liveness, lifecycle: this.lifecycle, mailbox, pollWaitMs: this.pollWaitMs });
    this.reports = new AgentReports({ store, state, liveness: this.liveness, lifecycle: this.lifecycle, logs, usage: this.usage });
  }

  /** Rebuilds the in-memory pool from the store and starts the heartbeat checker. */
  async start(): Promise<void> {
    await this.liveness.restore();
    await this.placement.restore();
    this.liveness.startChecking();
    this.placement.schedule();
  }

  async stop(): Promise<void> {
    this.liveness.stopChecking();
    this.mailbox.notifyAll();
    await this.placement.stop();
  }

  // ---- tasks -------------------------------------------------------------------------------------

  /** Records a task as queued and lets the placement loop find it an agent. */
  /** Throws what submit would refuse the task for, storing nothing (TaskLifecycle.check). */
  checkSubmission(spec: TaskSpec): void {
    this.lifecycle.check(spec);
  }

  submit(spec: TaskSpec): Promise<TaskRecord> {
    return this.lifecycle.submit(spec);
  }

  getTask(id: string): Promise<TaskRecord> {
    return this.lifecycle.get(id);
  }

  listTasks(query: TaskQuery): Promise<TaskRecord[]> {
    return this.lifecycle.list(query);
  }

  /** Kills a task: a queued one at once, an active one through its agent. Killing a finished task is a conflict. */
  kill(id: string, reason = 'killed by user'): Promise<TaskRecord> {
    return this.lifecycle.kill(id, reason);
  }

  /** Queued tasks in placement order, each with why it waits. */
  queued(): TaskRecord[] {
    return this.placement.queued();
  }

  /** Runs the placement loop soon; calls while it runs make it run once more afterwards. */
  schedulePlacement(): void {
    this.placement.schedule();
  }

  // ---- agents ------------------------------------------------------------------------------------

  register(registration: Registration, embedded: boolean): Promise<RegistrationResult> {
    return this.liveness.register(registration, embedded);
  }

  findAgent(agentId: string): Promise<AgentRecord | null> {
    return this.liveness.find(agentId);
  }

  /** Every agent with what is still free on it (null when it is not in the pool now) and its task count. */
  listAgentsWithUsage(): Promise<AgentWithUsage[]> {
    return this.liveness.listWithUsage();
  }

  /** An agent's poll: marks it alive, then returns its orders, waiting up to waitMs for some. */
  pollOrders(agentId: string, runningTaskIds: string[], waitMs: number, signal?: AbortSignal, killingTaskIds: string[] = []): Promise<Order[]> {
    return this.delivery.poll(agentId, runningTaskIds, waitMs, signal, killingTaskIds);
  }

  /** Drains an agent: out of placement, told to stop its tasks (reported lost) and leave (AgentLiveness.drain). */
  drainAgent(agentId: string): Promise<AgentRecord> {
    return this.liveness.drain(agentId);
  }

  /** Agents silent for longer than the heartbeat timeout become unreachable and their tasks lost. */
  checkHeartbeats(): Promise<void> {
    return this.liveness.checkHeartbeats();
  }

  // ---- agent reports -----------------------------------------------------------------------------

  /** A status update from the agent running the task. Stale or repeated reports change nothing. */
  reportStatus(agentId: string, report: StatusReport): Promise<void> {
    return this.reports.status(agentId, report);
  }

  /** A change of a running task's probe verdicts (the agent reports changes only): recorded and told. */
  reportProbe(agentId: string, report: ProbeReport): Promise<void> {
    return this.reports.probe(agentId, report);
  }

  /** What an agent's running tasks use (kept in memory, see UsageFigures). */
  reportUsage(agentId: string, report: UsageReport): Promise<void> {
    return this.reports.usage(agentId, report);
  }

  reportDiskUsage(agentId: string, usage: DiskUsage): Promise<void> {
    return this.reports.diskUsage(agentId, usage);
  }

  /** The images an agent holds: kept for placement (ties go to holders) and written when they changed. */
  reportImages(agentId: string, images: string[]): Promise<void> {
    return this.reports.images(agentId, images);
  }

  appendOutput(agentId: string, batch: OutputBatch): Promise<void> {
    return this.reports.output(agentId, batch);
  }
}
