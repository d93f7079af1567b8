// Private uids: each task that runs as the agent's default user gets a uid of its own (systemd's
// DynamicUser idea), keeping that user's group and supplementary groups. Two tasks of one user could
// read each other's sandboxes, signal each other and read each other's /proc/PID/environ (secrets) and
// /proc/PID/cwd; a uid apiece puts the kernel's user boundary between every two tasks. The uids have no
// name on the host (USER and LOGNAME still say the default user's; `id -un` finds none).
//
// - A task is held by its key: its workspace when it has one (every step of a CI run shares the run's
//   workspace, so they share a uid), else its own id.
// - A uid is handed out round robin from a random start, skipping held ones, so that a freed uid is
//   reused as late as the range allows; and a finished task's sandbox is sealed (root's, 0700: see
//   sealSandbox), so that a reused uid finds nothing of the task it once was.
// - After an agent restart the uids still held are read back from the owners of the workspaces and
//   of the recovered tasks' sandboxes (reclaim); a sandbox of a task that ended meanwhile is sealed.
// - A task naming a user (TaskSpec.user) runs as that very user: an operator's grant, shared on purpose.
import { chmod, chown, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Invalid } from '../../shared/errors.ts';

export interface UidRange {
  first: number;
  last: number;
}

/**
 * Above systemd's ranges (dynamic users 61184–65519, nspawn containers up to 1879048191) and the
 * subordinate ids useradd hands out from 100000, below 2^31 (tools that keep a uid in a signed int).
 */
export const DEFAULT_PRIVATE_UIDS: UidRange = { first: 1_900_000_000, last: 1_900_065_535 };

const HIGHEST_UID = 4_294_967_294; // (uid_t)-1 means "no change" to the kernel

/** `FIRST-LAST` or `off` (null) as given with --task-uids or GANTRY_TASK_UIDS; empty: the default range. */
export function parseUidRange(text: string, source: string): UidRange | null {
  const value = text.trim();
  if (value === '') return DEFAULT_PRIVATE_UIDS;
  if (value === 'off') return null;
  const match = /^(\d{1,10})-(\d{1,10})$/.exec(value);
  const range = match ? { first: Number(match[1]), last: Number(match[2]) } : null;
  if (!range || range.first < 1000 || range.last > HIGHEST_UID || range.last < range.first) {
    throw new Invalid(`${source}: "${value}": give a uid range FIRST-LAST (from 1000, at most ${HIGHEST_UID}, e.g. ${DEFAULT_PRIVATE_UIDS.first}-${DEFAULT_PRIVATE_UIDS.last}) or "off"`);
  }
  return range;
}

/** What holds a uid: a task's workspace, else the task. */
export interface UidHolder {
  taskId: string;
  workspace?: string | undefined;
}

function keyOf(holder: UidHolder): string {
  return holder.workspace !== undefined ? `workspace:${holder.workspace}` : `task:${holder.taskId}`;
}

export class PrivateUids {
  private readonly uidOf = new Map<string, number>();
  private readonly held = new Set<number>();
  private next: number;

  constructor(
    readonly range: UidRange,
    start = range.first + Math.floor(Math.random() * (range.last - range.first + 1)),
  ) {
    this.next = start;
  }

  includes(uid: number): boolean {
    return uid >= this.range.first && uid <= this.range.last;
  }

  /** The holder's uid: the one it holds, else a free one, now held. */
  claim(holder: UidHolder): number {
    const key = keyOf(holder);
    const known = this.uidOf.get(key);
    if (known !== undefined) return known;
    const size = this.range.last - this.range.first + 1;
    for (let tried = 0; tried < size; tried++) {
      const uid = this.next;
      this.next = uid === this.range.last ? this.range.first : uid + 1;
      if (this.held.has(uid)) continue;
      this.uidOf.set(key, uid);
      this.held.add(uid);
      return uid;
    }
    throw new Error(`every private uid of ${this.range.first}-${this.range.last} is held by a task: widen --task-uids`);
  }

  /** Takes back the uid a holder had before the agent restarted. False when it is not ours to take. */
  adopt(holder: UidHolder, uid: number): boolean {
    const key = keyOf(holder);
    if (!this.includes(uid)) return false;
    if (this.uidOf.get(key) === uid) return true;
    if (this.held.has(uid) || this.uidOf.has(key)) return false;
    this.uidOf.set(key, uid);
    this.held.add(uid);
    return true;
  }

  /** The holder is gone (a task without workspace ended, a workspace was removed): its uid is free. */
  release(holder: UidHolder): void {
    const key = keyOf(holder);
    const uid = this.uidOf.get(key);
    if (uid === undefined) return;
    this.uidOf.delete(key);
    this.held.delete(uid);
  }

  /** How many uids are held (for tests and logs). */
  get size(): number {
    return this.held.size;
  }
}

/**
 * A finished task's sandbox becomes root's with mode 0700: whoever gets its uid next (or its user, for
 * a task that named one) cannot enter it. The agent, root, still reads its output files. Only a sandbox
 * a task user owns is touched.
 */
export async function sealSandbox(sandboxDir: string): Promise<void> {
  const info = await stat(sandboxDir).catch(() => null);
  if (!info || info.uid === 0) return;
  await chown(sandboxDir, 0, 0);
  await chmod(sandboxDir, 0o700);
}

/**
 * At the agent's start: the uids its workspaces and its recovered (running) tasks' sandboxes hold are
 * held again; the sandbox of any other task still owned by a private uid (its task ended while the
 * agent was down, or before the seal) is sealed. Returns how many were sealed.
 */
export async function reclaimPrivateUids(uids: PrivateUids, dirs: { sandboxRoot: string; workspaceRoot: string }, running: ReadonlySet<string>): Promise<number> {
  const workspaceUids = new Set<number>();
  for (const name of await listDir(dirs.workspaceRoot)) {
    const info = await stat(path.join(dirs.workspaceRoot, name)).catch(() => null);
    if (info?.isDirectory() && uids.adopt({ taskId: '', workspace: name }, info.uid)) workspaceUids.add(info.uid);
  }
  let sealed = 0;
  for (const taskId of await listDir(dirs.sandboxRoot)) {
    const dir = path.join(dirs.sandboxRoot, taskId);
    const info = await stat(dir).catch(() => null);
    if (!info?.isDirectory() || !uids.includes(info.uid)) continue;
    // A running task in a workspace shares the workspace's uid, adopted above.
    if (running.has(taskId) && (workspaceUids.has(info.uid) || uids.adopt({ taskId }, info.uid))) continue;
    await sealSandbox(dir);
    sealed++;
  }
  return sealed;
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}
