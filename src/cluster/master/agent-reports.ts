// What agents report besides their polls: their tasks' states, output, probe verdicts and usage, and
// their own disk usage and images. Each report but output is also a heartbeat; each is recorded where
// it belongs: the task lifecycle, the log store, the in-memory usage figures, or the agent's row and
// placement's view of its images.
import { Invalid, NotFound } from '../../shared/errors.ts';
import type { ClusterState } from '../placement/cluster-state.ts';
import type { OutputBatch, ProbeReport, StatusReport, UsageReport } from '../protocol.ts';
import type { ClusterStore } from '../store/cluster-store.ts';
import type { DiskUsage, TaskRecord } from '../types.ts';
import type { AgentLiveness } from './agent-liveness.ts';
import type { TaskLifecycle } from './task-lifecycle.ts';
import type { TaskLogStore } from './task-logs.ts';
import type { UsageFigures } from './usage-figures.ts';

export interface AgentReportsOptions {
  store: ClusterStore;
  state: ClusterState;
  liveness: AgentLiveness;
  lifecycle: TaskLifecycle;
  logs: Pick<TaskLogStore, 'append'>;
  usage: UsageFigures;
}

export class AgentReports {
  /** The image list each agent last reported, joined: a report that changed nothing writes nothing. */
  private readonly reportedImages = new Map<string, string>();

  constructor(private readonly options: AgentReportsOptions) {}

  /** A status update from the agent running the task. Stale or repeated reports change nothing. */
  async status(agentId: string, report: StatusReport): Promise<void> {
    const { store, liveness, lifecycle } = this.options;
    await liveness.heardFrom(agentId);
    if (report.state === 'running') {
      // The update only matches a task staged on this agent, so the usual case needs no read first;
      // a report it did not match is either stale (the task moved on) or not this agent's.
      if (await lifecycle.markRunning(report.taskId, agentId, report.limits ?? null, report.address ?? null)) return;
    }
    const task = await store.tasks.find(report.taskId);
    if (!task || task.agentId !== agentId) throw new NotFound(`task ${report.taskId} is not assigned to agent ${agentId}`);
    if (report.state === 'running') {
      // Running already: a restarted task's next run, or a recovered container, says where it is now.
      if (report.address !== undefined && task.state === 'running') await lifecycle.recordAddress(task, agentId, report.address);
      return;
    }
    if (report.state === 'restarting') return this.restarting(task, agentId, report);
    const reason = report.reason ?? defaultReason(report.state, report.exitCode ?? null);
    await lifecycle.finish(task, { state: report.state, exitCode: report.exitCode ?? null, reason, ...(report.result ? { result: report.result } : {}) }, report.limits);
  }

  /** A run of a task with a restart policy ended and its agent runs it again later. */
  private async restarting(task: TaskRecord, agentId: string, report: StatusReport): Promise<void> {
    if (report.restarts === undefined || report.restartAt === undefined) throw new Invalid('a restarting report gives restarts and restartAt');
    const reason = report.reason ?? defaultReason('failed', report.exitCode ?? null);
    const restart = { exitCode: report.exitCode ?? null, reason, restarts: report.restarts, restartAt: report.restartAt };
    await this.options.lifecycle.recordRestart(task, agentId, restart, report.limits);
  }

  /** A change of a running task's probe verdicts (the agent reports changes only). */
  async probe(agentId: string, report: ProbeReport): Promise<void> {
    await this.options.liveness.heardFrom(agentId);
    const { taskId, ...verdicts } = report;
    await this.options.lifecycle.recordProbe(taskId, agentId, verdicts);
  }

  /** What an agent's running tasks use (kept in memory, see UsageFigures). */
  async usage(agentId: string, report: UsageReport): Promise<void> {
    await this.options.liveness.heardFrom(agentId);
    this.options.usage.record(report);
  }

  async diskUsage(agentId: string, usage: DiskUsage): Promise<void> {
    await this.options.liveness.heardFrom(agentId);
    await this.options.store.agents.setDiskUsage(agentId, usage);
  }

  /** The images an agent holds: kept for placement (ties go to holders) and written when they changed. */
  async images(agentId: string, images: string[]): Promise<void> {
    await this.options.liveness.heardFrom(agentId);
    const sorted = [...new Set(images)].sort();
    this.options.state.setImages(agentId, sorted);
    const known = this.reportedImages.get(agentId);
    if (known !== undefined && known === sorted.join('\n')) return;
    this.reportedImages.set(agentId, sorted.join('\n'));
    await this.options.store.agents.setImages(agentId, sorted);
  }

  /** A batch of a task's output from its agent, appended to its log (idempotent: see TaskLogStore.append). */
  async output(agentId: string, batch: OutputBatch): Promise<void> {
    const task = await this.options.store.tasks.find(batch.taskId);
    if (!task || task.agentId !== agentId) throw new NotFound(`task ${batch.taskId} is not assigned to agent ${agentId}`);
    await this.options.logs.append(batch.taskId, batch.from, batch.chunks);
  }
}

function defaultReason(state: 'finished' | 'failed' | 'killed' | 'lost', exitCode: number | null): string {
  if (state === 'killed' || state === 'lost') return state;
  return exitCode === null ? state : `exited with code ${exitCode}`;
}
