// Container garbage collection for the docker driver, run by the agent every minute or so.
//
// An exited container is kept for a while after its task's end was reported (`docker logs`, `docker
// inspect` for whoever investigates; the output itself is already with the master), then removed.
// Marathon retrying a failing app on Mesos left one exited container per attempt until the disk
// filled; here the number kept is bounded by the delay. Removed as well:
// - orphans: containers with Gantry's labels under this agent's sandbox root that belong to no task
//   the agent knows (a launch that crashed between create and the agent's bookkeeping, a task the
//   master had already declared ended);
// - containers whose sandbox directory is gone (their agent's data directory was deleted).
// The marker file (REPORTED_MARKER in the sandbox, written by destroy()) tells a reported container
// from one whose end still has to be reported (recover() takes those, not these).
import { access, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { LABEL_SANDBOX, LABEL_TASK } from './docker-create.ts';
import { engineMessage } from './docker-pull.ts';

/** In a task's sandbox: the id of its container, whose end was reported (destroy() writes it). */
export const REPORTED_MARKER = 'container-reported';

export interface ContainerGcOptions {
  /** This agent's sandbox root: containers of sandboxes directly under it are its own. */
  sandboxRoot: string;
  /** The tasks the agent has (running or being started): never collected. */
  known: ReadonlySet<string>;
  /** How long an exited, reported container is kept after it finished. */
  keepExitedMs: number;
  now?: number;
}

export interface RemovedContainer {
  taskId: string;
  id: string;
  why: 'expired' | 'orphan' | 'sandbox gone';
}

/** Removes what the rules above say; returns what it removed. Errors are reported through `log`. */
export async function collectContainers(docker: Dockerode, options: ContainerGcOptions, log: (msg: string) => void = () => undefined): Promise<RemovedContainer[]> {
  const root = path.resolve(options.sandboxRoot);
  const now = options.now ?? Date.now();
  const listed = await docker.listContainers({ all: true, filters: { label: [LABEL_TASK, LABEL_SANDBOX] } });
  const removed: RemovedContainer[] = [];
  for (const info of listed) {
    const taskId = info.Labels[LABEL_TASK] ?? '';
    const sandboxDir = info.Labels[LABEL_SANDBOX] ?? '';
    if (options.known.has(taskId)) continue;
    const why = await verdict(info, sandboxDir, root, now, options.keepExitedMs);
    if (!why) continue;
    try {
      await docker.getContainer(info.Id).remove({ force: true, v: true });
      removed.push({ taskId, id: info.Id, why });
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status !== 404 && status !== 409) log(`container gc: cannot remove ${info.Id.slice(0, 12)} (task ${taskId}): ${engineMessage(err)}`);
    }
  }
  return removed;
}

async function verdict(info: Dockerode.ContainerInfo, sandboxDir: string, root: string, now: number, keepExitedMs: number): Promise<RemovedContainer['why'] | null> {
  if (!(await exists(sandboxDir))) {
    // Another agent's container whose sandbox is gone: give a new launch's mkdir a moment, though.
    return now - info.Created * 1000 > 60_000 ? 'sandbox gone' : null;
  }
  if (path.dirname(sandboxDir) !== root) return null; // another agent's, alive
  const marker = path.join(sandboxDir, REPORTED_MARKER);
  const reported = await readFile(marker, 'utf8').catch(() => null);
  if (reported?.trim() !== info.Id) return 'orphan';
  if (info.State === 'running') return 'orphan'; // reported as ended, yet running: nobody follows it
  // Kept for the delay from when its end was reported: the marker's time (written by destroy()).
  const reportedAt = (await stat(marker).catch(() => null))?.mtimeMs;
  return reportedAt !== undefined && now - reportedAt >= keepExitedMs ? 'expired' : null;
}

async function exists(dir: string): Promise<boolean> {
  if (!dir) return false;
  return access(dir).then(
    () => true,
    () => false,
  );
}

/**
 * Removes dangling images (untagged, used by no container) created more than `olderThanMs` ago, as
 * `docker image prune --filter until=...` does. Returns how many and the bytes the engine freed.
 */
export async function pruneDanglingImages(docker: Dockerode, olderThanMs: number): Promise<{ count: number; bytes: number }> {
  const until = `${Math.max(0, Math.floor(olderThanMs / 1000))}s`;
  const pruned = await docker.pruneImages({ filters: JSON.stringify({ dangling: ['true'], until: [until] }) });
  const deleted = (pruned.ImagesDeleted ?? []).filter((d) => d.Deleted);
  return { count: deleted.length, bytes: pruned.SpaceReclaimed ?? 0 };
}

/** Disk used by the writable layers of this agent's containers (those of sandboxes under its root). */
export async function containersDiskUsage(docker: Dockerode, sandboxRoot: string): Promise<number> {
  const root = path.resolve(sandboxRoot);
  const listed = await docker.listContainers({ all: true, size: true, filters: { label: [LABEL_SANDBOX] } });
  return listed.filter((info) => path.dirname(info.Labels[LABEL_SANDBOX] ?? '') === root).reduce((sum, info) => sum + ((info as { SizeRw?: number }).SizeRw ?? 0), 0); // SizeRw: only with size=true, absent from the types
}
