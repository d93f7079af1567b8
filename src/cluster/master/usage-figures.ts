// The CPU and memory each running task uses, as its agent last sampled them, kept in memory by the
// master (figures every few seconds for every task would be a store write each; a restarted master
// knows them again at the agents' next report). The CPU rate comes from two samples of CPU time.
import type { UsageReport } from '../protocol.ts';

export interface TaskUsageFigures {
  /** When the agent sampled them. */
  at: string;
  /** CPUs in use between the last two samples (1.5 = one and a half cores); null after the first sample. */
  cpus: number | null;
  /** CPU time used since the task started, in seconds. */
  cpuSeconds: number;
  memBytes: number;
}

export class UsageFigures {
  private readonly byTask = new Map<string, TaskUsageFigures>();

  /** Takes an agent's report; a sample older than the one held is ignored. */
  record(report: UsageReport): void {
    const at = Date.parse(report.at);
    for (const sample of report.tasks) {
      const before = this.byTask.get(sample.taskId);
      const since = before ? (at - Date.parse(before.at)) / 1000 : 0;
      if (before && since <= 0) continue;
      const cpus = before && sample.cpuSeconds >= before.cpuSeconds ? round((sample.cpuSeconds - before.cpuSeconds) / since) : null;
      this.byTask.set(sample.taskId, { at: report.at, cpus, cpuSeconds: sample.cpuSeconds, memBytes: sample.memBytes });
    }
  }

  of(taskId: string): TaskUsageFigures | null {
    return this.byTask.get(taskId) ?? null;
  }

  /** A task ended: its figures go. */
  forget(taskId: string): void {
    this.byTask.delete(taskId);
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
