// The secrets to mask in a task's output (TaskSpec.redact), kept in the agent's own directory while
// the task runs: after an agent restart, recover() gives back bare handles, and the output of a
// recovered task must be masked just the same.
import { loadTaskFile, pruneTaskFiles, removeTaskFile, saveTaskFile } from './task-files.ts';

const KIND = 'redact';

/** Records the values before the task starts, so there is no moment when it runs unrecorded. */
export async function saveRedactValues(workDir: string, taskId: string, values: readonly string[]): Promise<void> {
  if (values.length === 0) return;
  await saveTaskFile(workDir, KIND, taskId, values);
}

/** The values recorded for a task; none when there is no record. */
export async function loadRedactValues(workDir: string, taskId: string): Promise<string[]> {
  const parsed = await loadTaskFile(workDir, KIND, taskId);
  return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === 'string') : [];
}

export function removeRedactValues(workDir: string, taskId: string): Promise<void> {
  return removeTaskFile(workDir, KIND, taskId);
}

/** After recovery: forgets the values of tasks that did not survive the agent's restart. */
export function pruneRedactValues(workDir: string, keepTaskIds: ReadonlySet<string>): Promise<void> {
  return pruneTaskFiles(workDir, KIND, keepTaskIds);
}
