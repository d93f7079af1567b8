// What the agent keeps of a task with a restart policy (TaskSpec.restart), in its own directory, so
// that after the agent's own restart a recovered run of the task is still restarted when it ends,
// with its restart counts, and its output resumes at the right byte: the launch order, the counts, when
// the current run started, and how much output the master held when it did.
import type { LaunchOrder, OutputSoFar } from '../protocol.ts';
import { listTaskFiles, loadTaskFile, pruneTaskFiles, removeTaskFile, saveTaskFile } from './task-files.ts';

const KIND = 'restart';

export interface RestartState {
  order: LaunchOrder;
  /** Restarts in total and in a row (RestartCounter). */
  total: number;
  inRow: number;
  /** When the current run started (ms since the epoch): a long enough run resets the backoff. */
  runStartedAt: number;
  /** The output the master held when the current run started; the run's own output follows it. */
  outputBase: OutputSoFar;
}

export function saveRestartState(workDir: string, state: RestartState): Promise<void> {
  return saveTaskFile(workDir, KIND, state.order.taskId, state);
}

export async function loadRestartState(workDir: string, taskId: string): Promise<RestartState | undefined> {
  const state = (await loadTaskFile(workDir, KIND, taskId)) as RestartState | undefined;
  return state?.order?.spec?.restart ? state : undefined;
}

/** Every task's restart state (after the agent's restart: the recovered runs' and the waiting ones'). */
export async function loadRestartStates(workDir: string): Promise<RestartState[]> {
  const states: RestartState[] = [];
  for (const taskId of await listTaskFiles(workDir, KIND)) {
    const state = await loadRestartState(workDir, taskId).catch(() => undefined);
    if (state) states.push(state);
  }
  return states;
}

export function removeRestartState(workDir: string, taskId: string): Promise<void> {
  return removeTaskFile(workDir, KIND, taskId);
}

export function pruneRestartStates(workDir: string, keepTaskIds: ReadonlySet<string>): Promise<void> {
  return pruneTaskFiles(workDir, KIND, keepTaskIds);
}
