// What the master is told when a run of a task ends: one rule for every driver and every way a task
// ends (its own exit, a signal, the OOM killer, a kill order), pure so that a table tests it.
import type { TaskExit } from '../drivers/driver.ts';
import type { StatusReport } from '../protocol.ts';

/** How a task's exit is reported: the kill reason wins, then the OOM killer, then the exit code. */
export function exitReport(taskId: string, exit: TaskExit, killReason: string | undefined, limits: string): StatusReport {
  if (exit.oomKilled) {
    return { taskId, state: 'failed', exitCode: exit.exitCode, reason: `killed by the OOM killer: memory limit exceeded (${limits})`, limits };
  }
  if (killReason !== undefined || exit.killed) {
    return { taskId, state: 'killed', exitCode: exit.exitCode, reason: killReason ?? 'killed', limits };
  }
  if (exit.exitCode === 0) return { taskId, state: 'finished', exitCode: 0, reason: 'exited with code 0', limits, ...(exit.result ? { result: exit.result } : {}) };
  const reason = exit.reason !== undefined ? exit.reason : exit.exitCode === null ? `terminated by signal ${exit.signal ?? 'unknown'}` : `exited with code ${exit.exitCode}`;
  return { taskId, state: 'failed', exitCode: exit.exitCode, reason, limits };
}
