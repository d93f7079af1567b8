// What agents and the master say to each other. The remote agent sends these over HTTP
// (/api/v1/agent/...); the embedded agent hands them to the master directly. Same messages, same code.
import type { OutputChunk } from './drivers/driver.ts';
import type { Allocation, Attributes, DiskUsage, Resources, TaskResult, TaskSpec } from './types.ts';

export interface Registration {
  /** The id the agent had before (kept in its data directory), to re-register after a restart. */
  agentId?: string | undefined;
  hostname: string;
  resources: Resources;
  attributes: Attributes;
  drivers: string[];
  /**
   * The users its tasks may run as (TaskSpec.user), its default task user first: `--task-users`, or
   * `gantry-task` as root, or the agent's own user when it does not run as root (it cannot switch).
   */
  taskUsers: string[];
  /** Tasks the agent is running right now (after a restart: the ones its drivers recovered). */
  runningTaskIds: string[];
}

/** Credentials for the bundled registry, so that agents pull task images without anyone logging in. */
export interface RegistryAccess {
  /** The registry's base URL as agents reach it (http://host:port). */
  url: string;
  username: string;
  password: string;
}

export interface RegistrationResult {
  agentId: string;
  /** The platform's robot account on the bundled registry (absent when the server runs none). */
  registry?: RegistryAccess;
  /** Credential for this agent's further calls (remote agents only; the embedded agent needs none). */
  agentToken?: string;
  /** How long a poll for orders may wait; also the heartbeat interval. */
  pollWaitMs: number;
  /**
   * For the tasks the agent recovered (its runningTaskIds) that the master still has as active on it:
   * how much of their output the master already holds, so the agent resumes after it.
   */
  outputSoFar?: Record<string, OutputSoFar>;
}

/** Output of a task the master holds: chunks, and bytes per stream (as stored, i.e. redacted). */
export interface OutputSoFar {
  chunks: number;
  stdout: number;
  stderr: number;
}

export interface LaunchOrder {
  type: 'launch';
  taskId: string;
  spec: TaskSpec;
  allocation: Allocation;
}

export interface KillOrder {
  type: 'kill';
  taskId: string;
  graceMs: number;
  reason: string;
  /**
   * A running task's TaskSpec.shutdownDelayMs: the agent waits this long before the SIGTERM, while load
   * balancers and DNS, which dropped the task when its kill was asked for, stop sending it work. Absent: 0.
   */
  delayMs?: number;
}

/**
 * The agent is being drained (`gantry agent drain`): it kills all its tasks, reports them lost (their
 * owners replace them elsewhere) and leaves the pool. Nothing new is placed on it meanwhile.
 */
export interface DrainOrder {
  type: 'drain';
}

export type Order = LaunchOrder | KillOrder | DrainOrder;

/** The reason of the tasks a drain stopped (reported `lost`). */
export const DRAIN_REASON = 'the agent was drained';

export interface StatusReport {
  taskId: string;
  /**
   * `restarting`: the run ended (exitCode, reason) and the agent runs the task again at `restartAt`
   * (TaskSpec.restart); the task stays running on the agent. `lost`: the agent stopped it for a reason
   * of its own (a drain), not the task's failure: its owner replaces it. The others: what the task is now.
   */
  state: 'running' | 'restarting' | 'finished' | 'failed' | 'killed' | 'lost';
  exitCode?: number | null;
  reason?: string;
  limits?: string;
  /** With `restarting`: the task's restarts so far, this one included. */
  restarts?: number;
  /** With `restarting`: when the next run starts (ISO 8601). */
  restartAt?: string;
  /** With an end: what the task produced (an image build's digest). */
  result?: TaskResult;
  /**
   * With `running`: the run's own IP address on its container network (TaskSpec.network naming one),
   * recorded as TaskRecord.address. Sent again for a restarted task's next run and a recovered container.
   */
  address?: string;
}

/** A change of a running task's probe verdicts (only changes are reported). */
export interface ProbeReport {
  taskId: string;
  health?: 'healthy' | 'unhealthy';
  ready?: boolean;
  message: string;
}

/** What the agent's running tasks use, sampled together at `at` (sent every usage interval). */
export interface UsageReport {
  at: string;
  tasks: Array<{ taskId: string; cpuSeconds: number; memBytes: number }>;
}

export interface OutputBatch {
  taskId: string;
  /** Number of chunks of this task's output sent before this batch. */
  from: number;
  chunks: OutputChunk[];
}

/** How an agent reaches its master. */
export interface MasterLink {
  register(registration: Registration): Promise<RegistrationResult>;
  /**
   * Heartbeat and order delivery in one: waits up to waitMs for orders. `runningTaskIds`: the tasks the
   * agent has, running or being started (those get no launch order again); `killingTaskIds`: those of
   * them it is stopping already (no kill order again: a poll would otherwise come back at once with
   * the same kill, over and over, for as long as the task takes to stop).
   */
  pollOrders(agentId: string, runningTaskIds: string[], waitMs: number, killingTaskIds?: string[]): Promise<Order[]>;
  reportStatus(agentId: string, report: StatusReport): Promise<void>;
  sendOutput(agentId: string, batch: OutputBatch): Promise<void>;
  /** The agent's disk use, after each garbage collection round. */
  reportDiskUsage(agentId: string, usage: DiskUsage): Promise<void>;
  /** The images the agent's engine holds (Driver.images), after each garbage collection round and each pull. */
  reportImages(agentId: string, images: string[]): Promise<void>;
  reportProbe(agentId: string, report: ProbeReport): Promise<void>;
  reportUsage(agentId: string, report: UsageReport): Promise<void>;
  /** The agent is draining on its own account (it stops with --drain-on-stop): place nothing more on it. */
  announceDrain(agentId: string): Promise<void>;
  /** Ends a pending poll at once (on shutdown); other calls keep working. */
  close(): void;
}
