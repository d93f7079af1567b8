// The agent's own directory (`<data>/agent`, or `gantry agent --data-dir`): where its tasks' sandboxes
// and the CI runs' workspaces go, and its id file, so that it registers again as the same agent. The
// layout and the modes that let a task user reach its own tree and list nothing are decided here once.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { spreadNewSubdirectories } from '../../shared/spread-directories.ts';
import type { TaskUsers } from './task-users.ts';
import { unreachableWorkDir } from './work-dir-reach.ts';

export function sandboxRoot(workDir: string): string {
  return path.join(workDir, 'sandboxes');
}

export function workspaceRoot(workDir: string): string {
  return path.join(workDir, 'workspaces');
}

/**
 * The roots of the per-task trees, flagged so that each new tree gets its own block group. The work
 * dir and both roots are 0711: a task user reaches its own sandbox and workspace (0700, its own) by
 * their names, and lists nothing (exec-user.ts).
 */
export async function prepareTaskRoots(workDir: string, taskUsers: TaskUsers, logger: Logger): Promise<void> {
  await mkdir(workDir, { recursive: true });
  await chmod(workDir, 0o711);
  for (const root of [sandboxRoot(workDir), workspaceRoot(workDir)]) {
    await mkdir(root, { recursive: true });
    await chmod(root, 0o711);
    const outcome = await spreadNewSubdirectories(root);
    if (!outcome.spread) logger.debug({ dir: root, reason: outcome.reason }, 'new task directories not spread over the disk');
  }
  const blocked = taskUsers.switches ? await unreachableWorkDir(sandboxRoot(workDir), taskUsers.users) : null;
  if (blocked) {
    logger.warn(blocked, `task user ${blocked.user} cannot pass through ${blocked.directory} to its sandbox: its tasks fail on $HOME and $GANTRY_SANDBOX; chmod o+x it or choose a data directory elsewhere`);
  }
}

function idFile(workDir: string): string {
  return path.join(workDir, 'agent-id');
}

/** The id this agent registered with last time, if any. */
export async function readAgentId(workDir: string): Promise<string | undefined> {
  try {
    return (await readFile(idFile(workDir), 'utf8')).trim() || undefined;
  } catch {
    return undefined;
  }
}

export async function writeAgentId(workDir: string, agentId: string): Promise<void> {
  await writeFile(idFile(workDir), `${agentId}\n`, { mode: 0o600 });
  await chmod(idFile(workDir), 0o600);
}
