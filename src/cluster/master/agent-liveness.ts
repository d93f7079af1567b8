// Which agents are in the pool and alive: registration (a fresh start of an agent, reconciled with
// the tasks the master has on it), heartbeats (every poll and report), the check that declares a
// silent agent unreachable and its tasks lost, and draining. Placement sees an agent (ClusterState)
// only while it is ready and heard from.
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.ts';
import { Conflict, NotFound } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import type { TimerHandle, Timers } from '../../shared/timers.ts';
import type { ClusterState } from '../placement/cluster-state.ts';
import type { OutputSoFar, Registration, RegistrationResult } from '../protocol.ts';
import type { ClusterStore } from '../store/cluster-store.ts';
import type { AgentRecord, Resources } from '../types.ts';
import type { AgentMailbox } from './agent-mailbox.ts';
import type { PlacementLoop } from './placement-loop.ts';
import type { TaskLifecycle } from './task-lifecycle.ts';
import type { TaskLogStore } from './task-logs.ts';

/** At most one heartbeat write per agent in this time (see heardFrom). */
const HEARTBEAT_STORE_INTERVAL_MS = 1000;

export interface AgentWithUsage extends AgentRecord {
  free: Resources | null;
  activeTasks: number;
}

export interface AgentLivenessOptions {
  store: ClusterStore;
  state: ClusterState;
  mailbox: AgentMailbox;
  placement: PlacementLoop;
  lifecycle: TaskLifecycle;
  logs: Pick<TaskLogStore, 'outputSoFar'>;
  /** The users each agent (not gone) lets its tasks run as: written here, read by the submission check. */
  taskUsers: Map<string, readonly string[]>;
  clock: Clock;
  timers: Timers;
  log: Logger;
  heartbeatTimeoutMs: number;
  pollWaitMs: number;
}

export class AgentLiveness {
  /** When each agent was last heard from (the store copy is written at most once per poll). */
  private readonly lastSeen = new Map<string, number>();
  /** When each agent's heartbeat was last written to the store (in memory, lastSeen is exact). */
  private readonly heartbeatStored = new Map<string, number>();
  /** Agents being drained: out of placement, told to stop their tasks and leave (see drain). */
  private readonly draining = new Set<string>();
  private heartbeatTimer: TimerHandle | undefined;

  constructor(private readonly options: AgentLivenessOptions) {}

  /** At start: the agents that were up, and the users each allows, from the store. */
  async restore(): Promise<void> {
    const { agents } = this.options.store;
    const now = this.options.clock.now().getTime();
    // Agents that were up before a master restart get a full timeout to poll again, but nothing is
    // placed on one until it does: it may be gone for good.
    for (const agent of await agents.list(['ready', 'draining'])) {
      this.lastSeen.set(agent.id, now);
      if (agent.state === 'draining') this.draining.add(agent.id);
    }
    for (const agent of await agents.list(['ready', 'draining', 'unreachable'])) this.options.taskUsers.set(agent.id, agent.taskUsers ?? []);
  }

  /** Starts the heartbeat checker: every quarter of the timeout (at least 250 ms). */
  startChecking(): void {
    const interval = Math.max(250, Math.floor(this.options.heartbeatTimeoutMs / 4));
    this.heartbeatTimer = this.options.timers.setInterval(() => this.checkHeartbeats().catch((err) => this.options.log.error({ err }, 'heartbeat check failed')), interval);
    this.heartbeatTimer.unref();
  }

  stopChecking(): void {
    this.options.timers.clearInterval(this.heartbeatTimer);
  }

  async register(registration: Registration, embedded: boolean): Promise<RegistrationResult> {
    const { store, state, clock, log } = this.options;
    const now = clock.now().toISOString();
    const known = registration.agentId ? await store.agents.find(registration.agentId) : null;
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
    await store.agents.upsert(agent);
    // A registration is a fresh start of the agent: a drain it was under has ended.
    this.draining.delete(agent.id);
    state.upsertAgent(agent.id, agent.hostname, agent.attributes, agent.resources, agent.taskUsers);
    this.options.taskUsers.set(agent.id, agent.taskUsers ?? []);
    if (known?.images) state.setImages(agent.id, known.images);
    this.lastSeen.set(agent.id, clock.now().getTime());
    const outputSoFar = await this.reconcileAgentTasks(agent.id, registration.runningTaskIds);
    log.info({ agent: agent.id, hostname: agent.hostname, embedded }, known ? 'agent re-registered' : 'agent registered');
    this.options.placement.schedule();
    return { agentId: agent.id, pollWaitMs: this.options.pollWaitMs, ...(Object.keys(outputSoFar).length > 0 ? { outputSoFar } : {}) };
  }

  /**
   * After a (re-)registration: tasks the master thinks run on the agent but the agent does not have
   * are lost; the resources of the ones it does have are accounted again. Returns, for the ones it
   * has, how much of their output the master holds (the agent resumes sending after it).
   */
  private async reconcileAgentTasks(agentId: string, runningTaskIds: string[]): Promise<Record<string, OutputSoFar>> {
    const { store, state, lifecycle, logs } = this.options;
    const running = new Set(runningTaskIds);
    const outputSoFar: Record<string, OutputSoFar> = {};
    for (const task of await store.tasks.list({ agentId, states: ['staging', 'running'] })) {
      if (task.state === 'running' && !running.has(task.id)) {
        await lifecycle.finish(task, { state: 'lost', exitCode: null, reason: 'the agent restarted and no longer runs the task' });
        continue;
      }
      if (task.allocation && !state.hasTask(task.id)) state.commit(task.id, agentId, task.spec.group, task.allocation);
      if (running.has(task.id)) outputSoFar[task.id] = await logs.outputSoFar(task.id);
    }
    return outputSoFar;
  }

  find(agentId: string): Promise<AgentRecord | null> {
    return this.options.store.agents.find(agentId);
  }

  /** Every agent with what is still free on it (null when it is not in the pool now) and its task count. */
  async listWithUsage(): Promise<AgentWithUsage[]> {
    const { store, state } = this.options;
    const agents = await store.agents.list();
    return agents.map((agent) => ({
      ...agent,
      free: state.agentView(agent.id)?.free ?? null,
      activeTasks: state.taskCount(agent.id),
    }));
  }

  isDraining(agentId: string): boolean {
    return this.draining.has(agentId);
  }

  /**
   * Drains an agent (an operator's `gantry agent drain`, or the agent itself stopping with
   * --drain-on-stop): nothing more is placed on it; its next poll tells it to stop its tasks, which it
   * reports lost so that their owners replace them elsewhere, and to leave. Its tasks' resources stay
   * counted until they are reported. Registering again makes it ready.
   */
  async drain(agentId: string): Promise<AgentRecord> {
    const { store, state, log } = this.options;
    const agent = await store.agents.find(agentId);
    if (!agent || agent.state === 'gone') throw new NotFound(`agent ${agentId} is not registered`);
    if (agent.state === 'unreachable') throw new Conflict(`agent ${agentId} is unreachable: it cannot be told to drain, and its tasks were already declared lost`);
    this.draining.add(agentId);
    if (state.removeAgent(agentId)) this.options.placement.schedule();
    if (agent.state !== 'draining') {
      await store.agents.setState(agentId, 'draining');
      log.info({ agent: agentId, hostname: agent.hostname }, 'agent draining');
    }
    this.options.mailbox.notify(agentId);
    return { ...agent, state: 'draining' };
  }

  /**
   * An agent's poll or report: it is alive. An agent that was unreachable is ready (or draining) again
   * and, unless draining, back in placement. An agent the store does not know is told to register.
   */
  async heardFrom(agentId: string): Promise<void> {
    const { store, state, clock, log } = this.options;
    const now = clock.now().getTime();
    // Within a second of a check that found the agent ready (and wrote its heartbeat), only this
    // master could have changed it, and it would have said so here: checkHeartbeats drops an agent it
    // marks unreachable from lastSeen, and agents are never deleted. So the read is skipped, one query
    // less on every poll and report of a task's start.
    if (this.lastSeen.has(agentId) && now - (this.heartbeatStored.get(agentId) ?? 0) < HEARTBEAT_STORE_INTERVAL_MS && state.agentView(agentId)) {
      this.lastSeen.set(agentId, now);
      return;
    }
    const agent = await store.agents.find(agentId);
    if (!agent || agent.state === 'gone') throw new NotFound(`agent ${agentId} is not registered; register again`);
    this.lastSeen.set(agentId, now);
    // Every poll and report is a heartbeat; the store needs it only for display and for a master
    // restart (which trusts agents for a full timeout anyway), so it is written at most once a second
    // per agent instead of once per report (20 reports in a burst of launches were 20 writes).
    if (now - (this.heartbeatStored.get(agentId) ?? 0) >= HEARTBEAT_STORE_INTERVAL_MS || agent.state !== 'ready') {
      this.heartbeatStored.set(agentId, now);
      await store.agents.touchHeartbeat(agentId, clock.now().toISOString());
    }
    if (agent.state === 'unreachable') {
      await store.agents.setState(agentId, this.draining.has(agentId) ? 'draining' : 'ready');
      log.warn({ agent: agentId }, 'agent reachable again');
    }
    if (!state.agentView(agentId) && !this.draining.has(agentId)) {
      state.upsertAgent(agent.id, agent.hostname, agent.attributes, agent.resources, agent.taskUsers);
      if (agent.images) state.setImages(agent.id, agent.images);
      this.options.placement.schedule();
    }
  }

  /**
   * Agents silent for longer than the heartbeat timeout become unreachable and their tasks lost; a
   * drained agent that stopped all its tasks has left the pool as it was told: it is gone, not
   * unreachable (it registers again if it comes back).
   */
  async checkHeartbeats(): Promise<void> {
    const { store, state, lifecycle, clock, log, heartbeatTimeoutMs } = this.options;
    const deadline = clock.now().getTime() - heartbeatTimeoutMs;
    for (const [agentId, seen] of this.lastSeen) {
      if (seen >= deadline) continue;
      this.lastSeen.delete(agentId);
      const active = await store.tasks.list({ agentId, states: ['staging', 'running'] });
      state.removeAgent(agentId);
      if (this.draining.has(agentId) && active.length === 0) {
        this.draining.delete(agentId);
        await store.agents.setState(agentId, 'gone');
        log.info({ agent: agentId }, 'drained agent left the pool');
        continue;
      }
      await store.agents.setState(agentId, 'unreachable');
      const seconds = Math.round(heartbeatTimeoutMs / 1000);
      log.warn({ agent: agentId }, `agent unreachable: no heartbeat for ${seconds}s`);
      for (const task of active) {
        await lifecycle.finish(task, { state: 'lost', exitCode: null, reason: `agent ${agentId} unreachable (no heartbeat for ${seconds}s)` });
      }
    }
  }
}
