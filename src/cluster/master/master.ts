// The master: the pool's agents, the task lifecycle, and the placement loop that moves queued tasks
// onto agents. Its durable state is the store; ClusterState is the in-memory view placement reads,
// rebuilt from the store at start.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Staging, Store, TaskQuery } from '../../store/index.ts';
import type { Clock } from '../../shared/clock.ts';
import { systemTimers, type TimerHandle, type Timers } from '../../shared/timers.ts';
import { Conflict, Invalid, NotFound, Unsatisfiable } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import { ClusterState } from '../placement/cluster-state.ts';
import { DRAIN_REASON, type OutputBatch, type Order, type OutputSoFar, type ProbeReport, type Registration, type RegistrationResult, type StatusReport, type UsageReport } from '../protocol.ts';
import {
  TERMINAL_STATES,
  type AgentRecord,
  type DiskUsage,
  type RankerName,
  type Resources,
  type TaskRecord,
  type TaskSpec,
  type TaskState,
} from '../types.ts';
import { newQueuedTask } from '../new-task.ts';
import { AgentMailbox } from './agent-mailbox.ts';
import { TaskChanges } from './task-changes.ts';
import { UsageFigures } from './usage-figures.ts';
import { deriveOrders, lostOnAgent } from './orders.ts';
import { checkTaskUser } from './task-user-check.ts';
import type { TaskLogStore } from './task-logs.ts';

/** At most one heartbeat write per agent in this time (see heardFrom). */
const HEARTBEAT_STORE_INTERVAL_MS = 1000;

export interface MasterOptions {
  store: Store;
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

export interface AgentWithUsage extends AgentRecord {
  free: Resources | null;
  activeTasks: number;
}

export interface TaskEvent {
  task: TaskRecord;
  /** Where a watch resumes to get the changes after this one (TaskChanges). */
  cursor: string;
}

export class Master {
  readonly events = new EventEmitter();
  /** The recent task changes, numbered, for list-then-watch clients (ClusterClient.list and watch). */
  readonly changes = new TaskChanges();
  /** What each running task uses, as its agent last reported it. */
  readonly usage = new UsageFigures();
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly log: Logger;
  private readonly state: ClusterState;
  private readonly mailbox = new AgentMailbox();
  /** Queued tasks in submission order; the durable copy is in the store. */
  private readonly queue = new Map<string, TaskRecord>();
  /** When each agent was last heard from (the store copy is written at most once per poll). */
  private readonly lastSeen = new Map<string, number>();
  /** When each agent's heartbeat was last written to the store (in memory, lastSeen is exact). */
  private readonly heartbeatStored = new Map<string, number>();
  /** Queued task → the pool generation at which it last failed to fit. */
  private readonly failedAtGeneration = new Map<string, number>();
  /** The image list each agent last reported, joined: a report that changed nothing writes nothing. */
  private readonly reportedImages = new Map<string, string>();
  /** Agents being drained: out of placement, told to stop their tasks and leave (see drainAgent). */
  private readonly draining = new Set<string>();
  /** The users each agent (not gone) lets its tasks run as, for the submission check of TaskSpec.user. */
  private readonly taskUsers = new Map<string, readonly string[]>();
  private placing = false;
  /** Submitted tasks waiting for their insert (see insertSoon). */
  private pendingInserts: Array<{ task: TaskRecord; resolve: () => void; reject: (err: Error) => void }> = [];
  private placeAgain = false;
  private heartbeatTimer: TimerHandle | undefined;
  readonly pollWaitMs: number;

  constructor(private readonly options: MasterOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.timers = options.timers ?? systemTimers;
    this.log = options.logger;
    this.state = new ClusterState({ rng: options.rng, defaultStrategy: options.defaultStrategy });
    this.pollWaitMs = options.pollWaitMs ?? Math.min(20_000, Math.floor(options.heartbeatTimeoutMs / 3));
    this.events.setMaxListeners(0);
  }

  /** Rebuilds the in-memory pool from the store and starts the heartbeat checker. */
  async start(): Promise<void> {
    const now = this.clock.now().getTime();
    // Agents that were up before a master restart get a full timeout to poll again, but nothing is
    // placed on one until it does: it may be gone for good.
    for (const agent of await this.store.agents.list(['ready', 'draining'])) {
      this.lastSeen.set(agent.id, now);
      if (agent.state === 'draining') this.draining.add(agent.id);
    }
    for (const agent of await this.store.agents.list(['ready', 'draining', 'unreachable'])) this.taskUsers.set(agent.id, agent.taskUsers ?? []);
    for (const task of await this.store.tasks.list({ states: ['staging', 'running'], order: 'oldest' })) {
      // Counted now, taken from the agent's free resources once it polls again.
      if (task.agentId && task.allocation) {
        this.state.commit(task.id, task.agentId, task.spec.group, task.allocation);
      }
    }
    for (const task of await this.store.tasks.list({ states: ['queued'], order: 'oldest' })) {
      this.queue.set(task.id, task);
    }
    const interval = Math.max(250, Math.floor(this.options.heartbeatTimeoutMs / 4));
    this.heartbeatTimer = this.timers.setInterval(() => this.checkHeartbeats().catch((err) => this.log.error({ err }, 'heartbeat check failed')), interval);
    this.heartbeatTimer.unref();
    this.schedulePlacement();
  }

  stop(): void {
    this.timers.clearInterval(this.heartbeatTimer);
    this.mailbox.notifyAll();
  }

  // ---- tasks -------------------------------------------------------------------------------------

  /** Records a task as queued and lets the placement loop find it an agent. */
  async submit(spec: TaskSpec): Promise<TaskRecord> {
    checkTaskUser(spec, this.taskUsers);
    const impossible = this.state.agents().length > 0 ? this.state.fitsAnyAgentTotal(spec) : null;
    if (impossible) throw new Unsatisfiable(`task can never be placed: ${impossible}`);
    const task = newQueuedTask(spec, this.clock.now());
    await this.insertSoon(task);
    this.queue.set(task.id, task);
    this.log.info({ task: task.id, owner: spec.owner, name: spec.name }, 'task queued');
    this.emitTask(task);
    this.schedulePlacement();
    return task;
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
    const batch = this.pendingInserts;
    this.pendingInserts = [];
    try {
      if (batch.length === 1) await this.store.tasks.insert(batch[0]!.task);
      else await this.store.tasks.insertMany(batch.map((b) => b.task));
      for (const b of batch) b.resolve();
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err as Error);
      for (const b of batch) await this.store.tasks.insert(b.task).then(b.resolve, b.reject);
    }
  }

  getTask(id: string): Promise<TaskRecord> {
    return this.store.tasks.get(id);
  }

  listTasks(query: TaskQuery): Promise<TaskRecord[]> {
    return this.store.tasks.list(query);
  }

  /** Kills a task: a queued one at once, an active one through its agent. Killing a finished task is a conflict. */
  async kill(id: string, reason = 'killed by user'): Promise<TaskRecord> {
    const task = await this.store.tasks.get(id);
    if (TERMINAL_STATES.has(task.state)) throw new Conflict(`task ${id} has already ended (${task.state})`);
    if (task.state === 'queued' && (await this.store.tasks.killQueued(id, reason, this.now()))) {
      this.queue.delete(id);
      this.failedAtGeneration.delete(id);
      return this.afterChange(id);
    }
    if (await this.store.tasks.requestKill(id, reason)) {
      const updated = await this.afterChange(id);
      if (updated.agentId) this.mailbox.notify(updated.agentId);
      return updated;
    }
    // It changed state between the read and the write: report what it is now.
    return this.store.tasks.get(id);
  }

  /** Queued tasks in placement order, each with why it waits. */
  queued(): TaskRecord[] {
    return [...this.queue.values()];
  }

  // ---- agents ------------------------------------------------------------------------------------

  async register(registration: Registration, embedded: boolean): Promise<RegistrationResult> {
    const now = this.now();
    const known = registration.agentId ? await this.store.agents.find(registration.agentId) : null;
    const agent: AgentRecord = {
      id: known?.id ?? newId('a'),
      hostname: registration.hostname,
      resources: registration.resources,
      attributes: registration.attributes,
      state: 'ready',
      embedded,
      drivers: registration.drivers,
      taskUsers: registration.taskUsers ?? [],
      registeredAt: known?.registeredAt ?? now,
      lastHeartbeatAt: now,
      version: (known?.version ?? 0) + 1,
    };
    await this.store.agents.upsert(agent);
    // A registration is a fresh start of the agent: a drain it was under has ended.
    this.draining.delete(agent.id);
    this.state.upsertAgent(agent.id, agent.hostname, agent.attributes, agent.resources, agent.taskUsers);
    this.taskUsers.set(agent.id, agent.taskUsers ?? []);
    if (known?.images) this.state.setImages(agent.id, known.images);
    this.lastSeen.set(agent.id, this.clock.now().getTime());
    const outputSoFar = await this.reconcileAgentTasks(agent.id, registration.runningTaskIds);
    this.log.info({ agent: agent.id, hostname: agent.hostname, embedded }, known ? 'agent re-registered' : 'agent registered');
    this.schedulePlacement();
    return { agentId: agent.id, pollWaitMs: this.pollWaitMs, ...(Object.keys(outputSoFar).length > 0 ? { outputSoFar } : {}) };
  }

  /**
   * After a (re-)registration: tasks the master thinks run on the agent but the agent does not have
   * are lost; the resources of the ones it does have are accounted again. Returns, for the ones it
   * has, how much of their output the master holds (the agent resumes sending after it).
   */
  private async reconcileAgentTasks(agentId: string, runningTaskIds: string[]): Promise<Record<string, OutputSoFar>> {
    const running = new Set(runningTaskIds);
    const outputSoFar: Record<string, OutputSoFar> = {};
    for (const task of await this.store.tasks.list({ agentId, states: ['staging', 'running'] })) {
      if (task.state === 'running' && !running.has(task.id)) {
        await this.finishTask(task, { state: 'lost', exitCode: null, reason: 'the agent restarted and no longer runs the task' });
        continue;
      }
      if (task.allocation && !this.state.hasTask(task.id)) this.state.commit(task.id, agentId, task.spec.group, task.allocation);
      if (running.has(task.id)) outputSoFar[task.id] = await this.options.logs.outputSoFar(task.id);
    }
    return outputSoFar;
  }

  findAgent(agentId: string): Promise<AgentRecord | null> {
    return this.store.agents.find(agentId);
  }

  /** Every agent with what is still free on it (null when it is not in the pool now) and its task count. */
  async listAgentsWithUsage(): Promise<AgentWithUsage[]> {
    const agents = await this.store.agents.list();
    return agents.map((agent) => ({
      ...agent,
      free: this.state.agentView(agent.id)?.free ?? null,
      activeTasks: this.state.taskCount(agent.id),
    }));
  }

  /** An agent's poll: marks it alive, then returns its orders, waiting up to waitMs for some. */
  async pollOrders(agentId: string, runningTaskIds: string[], waitMs: number, signal?: AbortSignal): Promise<Order[]> {
    await this.heardFrom(agentId);
    const wait = Math.max(0, Math.min(waitMs, this.pollWaitMs));
    let orders = await this.ordersFor(agentId, runningTaskIds);
    if (orders.length === 0 && wait > 0) {
      await this.mailbox.wait(agentId, wait, signal);
      orders = await this.ordersFor(agentId, runningTaskIds);
    }
    return orders;
  }

  private async ordersFor(agentId: string, runningTaskIds: string[]): Promise<Order[]> {
    const assigned = await this.store.tasks.list({ agentId, states: ['staging', 'running'], order: 'oldest' });
    for (const task of lostOnAgent(assigned, runningTaskIds)) {
      await this.finishTask(task, { state: 'lost', exitCode: null, reason: 'the agent no longer runs the task (it ended or was lost while the master could not hear of it)' });
    }
    const orders = deriveOrders(assigned, runningTaskIds);
    if (!this.draining.has(agentId)) return orders;
    // Staged on it but never started there: nothing to stop, and their owners need not wait for it.
    const onAgent = new Set(runningTaskIds);
    for (const task of assigned) {
      if (task.state === 'staging' && !onAgent.has(task.id)) await this.finishTask(task, { state: 'lost', exitCode: null, reason: DRAIN_REASON });
    }
    // Kills first, so that a task a user killed ends as killed, not lost with the others.
    return [...orders.filter((order) => order.type === 'kill'), { type: 'drain' }];
  }

  /**
   * Drains an agent (an operator's `gantry agent drain`, or the agent itself stopping with
   * --drain-on-stop): nothing more is placed on it; its next poll tells it to stop its tasks, which it
   * reports lost so that their owners replace them elsewhere, and to leave. Its tasks' resources stay
   * counted until they are reported. Registering again makes it ready.
   */
  async drainAgent(agentId: string): Promise<AgentRecord> {
    const agent = await this.store.agents.find(agentId);
    if (!agent || agent.state === 'gone') throw new NotFound(`agent ${agentId} is not registered`);
    if (agent.state === 'unreachable') throw new Conflict(`agent ${agentId} is unreachable: it cannot be told to drain, and its tasks were already declared lost`);
    this.draining.add(agentId);
    if (this.state.removeAgent(agentId)) this.schedulePlacement();
    if (agent.state !== 'draining') {
      await this.store.agents.setState(agentId, 'draining');
      this.log.info({ agent: agentId, hostname: agent.hostname }, 'agent draining');
    }
    this.mailbox.notify(agentId);
    return { ...agent, state: 'draining' };
  }

  private async heardFrom(agentId: string): Promise<void> {
    const now = this.clock.now().getTime();
    // Within a second of a check that found the agent ready (and wrote its heartbeat), only this
    // master could have changed it, and it would have said so here: checkHeartbeats drops an agent it
    // marks unreachable from lastSeen, and agents are never deleted. So the read is skipped, one query
    // less on every poll and report of a task's start.
    if (this.lastSeen.has(agentId) && now - (this.heartbeatStored.get(agentId) ?? 0) < HEARTBEAT_STORE_INTERVAL_MS && this.state.agentView(agentId)) {
      this.lastSeen.set(agentId, now);
      return;
    }
    const agent = await this.store.agents.find(agentId);
    if (!agent || agent.state === 'gone') throw new NotFound(`agent ${agentId} is not registered; register again`);
    this.lastSeen.set(agentId, now);
    // Every poll and report is a heartbeat; the store needs it only for display and for a master
    // restart (which trusts agents for a full timeout anyway), so it is written at most once a second
    // per agent instead of once per report (20 reports in a burst of launches were 20 writes).
    if (now - (this.heartbeatStored.get(agentId) ?? 0) >= HEARTBEAT_STORE_INTERVAL_MS || agent.state !== 'ready') {
      this.heartbeatStored.set(agentId, now);
      await this.store.agents.touchHeartbeat(agentId, this.now());
    }
    if (agent.state === 'unreachable') {
      await this.store.agents.setState(agentId, this.draining.has(agentId) ? 'draining' : 'ready');
      this.log.warn({ agent: agentId }, 'agent reachable again');
    }
    if (!this.state.agentView(agentId) && !this.draining.has(agentId)) {
      this.state.upsertAgent(agent.id, agent.hostname, agent.attributes, agent.resources, agent.taskUsers);
      if (agent.images) this.state.setImages(agent.id, agent.images);
      this.schedulePlacement();
    }
  }

  /** Agents silent for longer than the heartbeat timeout become unreachable and their tasks lost. */
  async checkHeartbeats(): Promise<void> {
    const deadline = this.clock.now().getTime() - this.options.heartbeatTimeoutMs;
    for (const [agentId, seen] of this.lastSeen) {
      if (seen >= deadline) continue;
      this.lastSeen.delete(agentId);
      await this.store.agents.setState(agentId, 'unreachable');
      this.state.removeAgent(agentId);
      const seconds = Math.round(this.options.heartbeatTimeoutMs / 1000);
      this.log.warn({ agent: agentId }, `agent unreachable: no heartbeat for ${seconds}s`);
      for (const task of await this.store.tasks.list({ agentId, states: ['staging', 'running'] })) {
        await this.finishTask(task, { state: 'lost', exitCode: null, reason: `agent ${agentId} unreachable (no heartbeat for ${seconds}s)` });
      }
    }
  }

  /** A status update from the agent running the task. Stale or repeated reports change nothing. */
  async reportStatus(agentId: string, report: StatusReport): Promise<void> {
    await this.heardFrom(agentId);
    if (report.state === 'running') {
      // The update only matches a task staged on this agent, so the usual case needs no read first;
      // a report it did not match is either stale (the task moved on) or not this agent's.
      const running = await this.store.tasks.markRunning(report.taskId, agentId, report.limits ?? null, this.now());
      if (running) {
        this.log.info({ task: running.id, agent: agentId }, 'task running');
        this.afterChangeTo(running);
        return;
      }
    }
    const task = await this.store.tasks.find(report.taskId);
    if (!task || task.agentId !== agentId) throw new NotFound(`task ${report.taskId} is not assigned to agent ${agentId}`);
    if (report.state === 'running') return;
    if (report.state === 'restarting') return this.recordRestart(task, agentId, report);
    const reason = report.reason ?? defaultReason(report.state, report.exitCode ?? null);
    await this.finishTask(task, { state: report.state, exitCode: report.exitCode ?? null, reason }, report.limits);
  }

  /** A run of a task with a restart policy ended and its agent runs it again later: one write. */
  private async recordRestart(task: TaskRecord, agentId: string, report: StatusReport): Promise<void> {
    if (report.restarts === undefined || report.restartAt === undefined) throw new Invalid('a restarting report gives restarts and restartAt');
    const reason = report.reason ?? defaultReason('failed', report.exitCode ?? null);
    const restart = { exitCode: report.exitCode ?? null, reason, restarts: report.restarts, restartAt: report.restartAt };
    const updated = await this.store.tasks.recordRestart(task.id, agentId, restart, report.limits);
    if (!updated) return;
    this.log.info({ task: task.id, restarts: report.restarts, restartAt: report.restartAt }, `task restarting: ${reason}`);
    this.afterChangeTo(updated);
  }

  /** A change of a running task's probe verdicts (the agent reports changes only): recorded and told. */
  async reportProbe(agentId: string, report: ProbeReport): Promise<void> {
    await this.heardFrom(agentId);
    const { taskId, ...verdicts } = report;
    const updated = await this.store.tasks.recordProbe(taskId, agentId, verdicts);
    if (!updated) return; // it ended meanwhile, or is not this agent's
    this.log.info({ task: taskId, health: report.health, ready: report.ready }, report.message);
    this.afterChangeTo(updated);
  }

  /** What an agent's running tasks use (kept in memory, see UsageFigures). */
  async reportUsage(agentId: string, report: UsageReport): Promise<void> {
    await this.heardFrom(agentId);
    this.usage.record(report);
  }

  async reportDiskUsage(agentId: string, usage: DiskUsage): Promise<void> {
    await this.heardFrom(agentId);
    await this.store.agents.setDiskUsage(agentId, usage);
  }

  /** The images an agent holds: kept for placement (ties go to holders) and written when they changed. */
  async reportImages(agentId: string, images: string[]): Promise<void> {
    await this.heardFrom(agentId);
    const sorted = [...new Set(images)].sort();
    this.state.setImages(agentId, sorted);
    const known = this.reportedImages.get(agentId);
    if (known !== undefined && known === sorted.join('\n')) return;
    this.reportedImages.set(agentId, sorted.join('\n'));
    await this.store.agents.setImages(agentId, sorted);
  }

  async appendOutput(agentId: string, batch: OutputBatch): Promise<void> {
    const task = await this.store.tasks.find(batch.taskId);
    if (!task || task.agentId !== agentId) throw new NotFound(`task ${batch.taskId} is not assigned to agent ${agentId}`);
    await this.options.logs.append(batch.taskId, batch.from, batch.chunks);
  }

  private async finishTask(
    task: TaskRecord,
    finish: { state: Exclude<TaskState, 'queued' | 'staging' | 'running'>; exitCode: number | null; reason: string },
    limits?: string,
  ): Promise<void> {
    if (!task.agentId) return;
    const finished = await this.store.tasks.finish(task.id, task.agentId, finish, this.now(), limits);
    if (!finished) return;
    this.state.release(task.id);
    this.options.logs.forget(task.id);
    this.usage.forget(task.id);
    this.log.info({ task: task.id, state: finish.state, exitCode: finish.exitCode }, `task ${finish.state}: ${finish.reason}`);
    this.afterChangeTo(finished);
    this.schedulePlacement();
  }

  // ---- placement ---------------------------------------------------------------------------------

  /** Runs the placement loop soon; calls while it runs make it run once more afterwards. */
  schedulePlacement(): void {
    if (this.placing) {
      this.placeAgain = true;
      return;
    }
    this.placing = true;
    setImmediate(() => {
      void this.placeQueued()
        .catch((err) => this.log.error({ err }, 'placement loop failed'))
        .finally(() => {
          this.placing = false;
          if (this.placeAgain) {
            this.placeAgain = false;
            this.schedulePlacement();
          }
        });
    });
  }

  /**
   * One pass over the queue, oldest first: decide and commit in memory, then record every placement
   * in the store at once. A task that did not fit is looked at again only once the pool changed.
   */
  private async placeQueued(): Promise<void> {
    const placed: Staging[] = [];
    for (const task of this.queue.values()) {
      if (this.failedAtGeneration.get(task.id) === this.state.generation) continue;
      const result = this.state.place(task.spec);
      if (result.ok) {
        this.failedAtGeneration.delete(task.id);
        this.state.commit(task.id, result.agent.id, task.spec.group, result.allocation);
        // The task's address goes with its ports: clients reach it at host:port (discovery, health checks).
        placed.push({ id: task.id, agentId: result.agent.id, allocation: { ...result.allocation, host: result.agent.hostname } });
        continue;
      }
      this.failedAtGeneration.set(task.id, this.state.generation);
      if (task.waitingReason !== result.reason) {
        task.waitingReason = result.reason;
        await this.store.tasks.setWaitingReason(task.id, result.reason);
        this.emitTask(task);
      }
    }
    if (placed.length === 0) return;
    let staged: TaskRecord[];
    try {
      staged = await this.store.tasks.stageMany(placed, this.now());
    } catch (err) {
      for (const item of placed) this.state.release(item.id);
      throw err;
    }
    const stagedIds = new Set(staged.map((task) => task.id));
    for (const item of placed) {
      this.queue.delete(item.id);
      // Not staged: it was killed while we decided; give its resources back.
      if (!stagedIds.has(item.id)) this.state.release(item.id);
    }
    // Wake the agents first: their launches need not wait for the events below.
    for (const agentId of new Set(staged.map((task) => task.agentId!))) this.mailbox.notify(agentId);
    for (const task of staged) {
      this.log.info({ task: task.id, agent: task.agentId }, 'task staged');
      this.emitTask(task);
    }
  }

  // ---- helpers -----------------------------------------------------------------------------------

  private async afterChange(taskId: string): Promise<TaskRecord> {
    const task = await this.store.tasks.get(taskId);
    this.afterChangeTo(task);
    return task;
  }

  /** Tells the listeners (and the log followers of an ended task) what the task is now. */
  private afterChangeTo(task: TaskRecord): void {
    this.emitTask(task);
    if (TERMINAL_STATES.has(task.state)) this.options.logs.notify(task.id);
  }

  private emitTask(task: TaskRecord): void {
    const { cursor } = this.changes.record(task);
    this.events.emit('task', { task, cursor } satisfies TaskEvent);
  }

  private now(): string {
    return this.clock.now().toISOString();
  }
}

function defaultReason(state: 'finished' | 'failed' | 'killed' | 'lost', exitCode: number | null): string {
  if (state === 'killed' || state === 'lost') return state;
  return exitCode === null ? state : `exited with code ${exitCode}`;
}
