// Memory and CPU limits for one task with cgroups, v1 or v2, whichever hierarchy holds each controller
// (see cgroup-detect.ts). A task gets `<parent>/<task>` in each hierarchy it needs, where `<parent>` is
// `cgroupRoot` when given, else `<the agent's own cgroup>/gantry`: nesting under the agent keeps the
// agent's own limits above its tasks and is the place a delegated (container, systemd) agent may write.
//
// The task's process joins its cgroups before it runs the task's command: the driver spawns a shell
// that writes its own pid into each cgroup.procs (joinScript) and then execs the command.
//
// v1: memory.limit_in_bytes (+ memory.memsw.limit_in_bytes when swap accounting exists, so the task
//     cannot escape into swap), cpu.cfs_period_us / cpu.cfs_quota_us; OOM kills from the `oom_kill`
//     line of memory.oom_control.
// v2: memory.max, memory.swap.max = 0, memory.oom.group = 1, cpu.max; OOM kills from memory.events.
//     v2 forbids controllers for the children of a cgroup that has processes ("no internal processes"),
//     so an agent running in a non-root v2 cgroup with processes needs `cgroupRoot` pointing at a
//     delegated sub-tree of its own; the limits string says so when that is the problem.
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import {
  locateController,
  parseMountInfo,
  parseProcCgroup,
  unifiedHierarchy,
  type CgroupVersion,
  type ControllerLocation,
} from './cgroup-detect.ts';
import { signalEach, sleep } from './process-group.ts';

export interface CgroupLimits {
  /** MiB; 0 = no memory limit. */
  memMiB: number;
  /** CPUs as a CFS quota; 0 = no CPU limit. */
  cpus: number;
}

export interface CgroupSetupOptions {
  /** The cgroup path (inside each hierarchy) that holds the tasks' cgroups; default `<own cgroup>/gantry`. */
  cgroupRoot?: string;
  /** Defaults to process.getuid(); a parameter so tests can check the non-root answer. */
  uid?: number;
  log?: (msg: string) => void;
}

/** One cgroup directory of the task: which hierarchy version and its absolute path. */
export interface CgroupDir {
  version: CgroupVersion;
  dir: string;
}

/** What task.json keeps about a task's cgroups, so a recovered handle can watch and remove them. */
export interface TaskCgroupRecord {
  memory?: CgroupDir;
  cpu?: CgroupDir;
}

const CFS_PERIOD_US = 100_000;
const MiB = 1024 * 1024;

export class TaskCgroup {
  constructor(readonly record: TaskCgroupRecord) {}

  /** The distinct directories (memory and cpu share one on v2). */
  get dirs(): string[] {
    return [...new Set([this.record.memory?.dir, this.record.cpu?.dir].filter((d): d is string => d !== undefined))];
  }

  /** A shell fragment that moves the shell (`$$`) into every cgroup of the task, or fails with 125. */
  joinScript(): string {
    return this.dirs
      .map((dir) => {
        const procs = shellQuote(posix.join(dir, 'cgroup.procs'));
        return `echo $$ > ${procs} || { echo "gantry: cannot join cgroup ${dir.replace(/["`$\\]/g, '_')}" >&2; exit 125; }; `;
      })
      .join('');
  }

  /** The pids inside the task's cgroups (processes that left the process group are still here). */
  async pids(): Promise<number[]> {
    const pids = new Set<number>();
    for (const dir of this.dirs) {
      const text = await readFile(posix.join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
      for (const line of text.split('\n')) if (/^\d+$/.test(line.trim())) pids.add(Number(line.trim()));
    }
    return [...pids];
  }

  /**
   * How many processes the kernel OOM-killed in the memory cgroup, or null when the kernel does not
   * say (v1 before Linux 4.13); `failcnt` is then how often the limit was hit, a weaker hint.
   */
  async oomKills(): Promise<{ kills: number | null; failcnt: number }> {
    const memory = this.record.memory;
    if (!memory) return { kills: 0, failcnt: 0 };
    const file = memory.version === 1 ? 'memory.oom_control' : 'memory.events';
    const text = await readFile(posix.join(memory.dir, file), 'utf8').catch(() => '');
    const match = /^oom_kill (\d+)$/m.exec(text);
    const kills = match ? Number(match[1]) : null;
    let failcnt = 0;
    if (memory.version === 1) failcnt = Number((await readFile(posix.join(memory.dir, 'memory.failcnt'), 'utf8').catch(() => '0')).trim()) || 0;
    return { kills, failcnt };
  }

  /** Kills what is left inside and removes the directories. Idempotent; gone directories are fine. */
  async remove(log?: (msg: string) => void): Promise<void> {
    for (const dir of this.dirs) {
      for (let attempt = 0; ; attempt++) {
        try {
          await rmdir(dir);
          break;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          if (code !== 'EBUSY' || attempt >= 40) {
            log?.(`cannot remove cgroup ${dir}: ${(err as Error).message}`);
            break;
          }
          signalEach(await this.pids(), 'SIGKILL');
          await sleep(25);
        }
      }
    }
  }
}

/** Quotes a string for /bin/sh. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A cgroup directory name for a task id: no slashes, no leading dot. */
export function cgroupName(taskId: string): string {
  const safe = taskId.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 200);
  return safe.startsWith('.') || safe === '' ? `task${safe}` : safe;
}

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.syscall ?? 'write'} ${e.path ?? ''}: ${e.code}`.replace(' :', ':') : String(e.message ?? err);
}

/**
 * Creates the task's cgroups and writes its limits. Never throws for a host that cannot enforce them:
 * `cgroup` is then null (or covers only what worked) and `limits` says what is enforced and why not.
 */
export async function setUpTaskCgroup(
  taskId: string,
  wanted: CgroupLimits,
  options: CgroupSetupOptions = {},
): Promise<{ cgroup: TaskCgroup | null; limits: string }> {
  const controllers = [...(wanted.memMiB > 0 ? ['memory'] : []), ...(wanted.cpus > 0 ? ['cpu'] : [])] as Array<'memory' | 'cpu'>;
  if (controllers.length === 0) return { cgroup: null, limits: 'none requested' };
  const uid = options.uid ?? process.getuid?.() ?? -1;
  if (uid !== 0) return { cgroup: null, limits: 'not enforced: not running as root' };

  let mountInfo: string;
  let procCgroup: string;
  try {
    [mountInfo, procCgroup] = await Promise.all([readFile('/proc/self/mountinfo', 'utf8'), readFile('/proc/self/cgroup', 'utf8')]);
  } catch (err) {
    return { cgroup: null, limits: `not enforced: cannot read /proc (${errorText(err)})` };
  }
  const mounts = parseMountInfo(mountInfo);
  const self = parseProcCgroup(procCgroup);
  const unified = unifiedHierarchy(mounts, self);
  const v2Controllers = unified
    ? (await readFile(posix.join(unified.mountPoint, 'cgroup.controllers'), 'utf8').catch(() => '')).trim().split(/\s+/)
    : null;

  const record: TaskCgroupRecord = {};
  const created = new Map<string, Promise<string | null>>(); // dir → failure reason
  const failures: string[] = [];
  for (const controller of controllers) {
    const location = locateController(controller, mounts, self, v2Controllers);
    let reason: string | null;
    let dir = '';
    if (typeof location === 'string') {
      reason = location;
    } else {
      const parent = options.cgroupRoot ?? posix.join(location.ownPath, 'gantry');
      dir = posix.join(location.mountPoint, parent, cgroupName(taskId));
      let pending = created.get(dir);
      if (!pending) created.set(dir, (pending = createCgroupDir(location, parent, dir, controller)));
      reason = await pending;
      if (reason === null) reason = await applyLimit(controller, location.version, dir, wanted);
    }
    if (reason === null) record[controller] = { version: (location as ControllerLocation).version, dir };
    else failures.push(`no writable ${controller} cgroup (${reason})`);
  }

  const cgroup = new TaskCgroup(record);
  // Directories whose controller failed (e.g. a limit that could not be written) are not kept.
  for (const dir of created.keys()) if (!cgroup.dirs.includes(dir)) await rmdir(dir).catch(() => undefined);
  const enforced: string[] = [];
  if (record.memory) enforced.push(`memory ${wanted.memMiB} MiB`);
  if (record.cpu) enforced.push(`cpu ${wanted.cpus}`);
  if (enforced.length === 0) {
    for (const f of failures) options.log?.(`exec driver: limits of ${taskId} not enforced: ${f}`);
    return { cgroup: null, limits: `not enforced: ${failures.join('; ')}` };
  }
  const versions = new Set([record.memory?.version, record.cpu?.version].filter((v) => v !== undefined));
  const prefix = versions.size === 1 ? `cgroup v${[...versions][0]}` : 'cgroup v1+v2';
  const rest = failures.length > 0 ? `; not enforced: ${failures.join('; ')}` : '';
  return { cgroup, limits: `${prefix}: ${enforced.join(', ')}${rest}` };
}

/** mkdir -p of the parent (v2: enabling the controller for children on the way) and of the task's dir. */
async function createCgroupDir(location: ControllerLocation, parent: string, dir: string, controller: string): Promise<string | null> {
  try {
    if (location.version === 2) {
      // Every cgroup from the root down to `parent` must hand the controller to its children.
      let current = location.mountPoint;
      for (const part of ['', ...parent.split('/').filter(Boolean)]) {
        current = posix.join(current, part);
        await mkdir(current, { recursive: true });
        const enabled = await readFile(posix.join(current, 'cgroup.subtree_control'), 'utf8');
        if (enabled.split(/\s+/).includes(controller)) continue;
        try {
          await writeFile(posix.join(current, 'cgroup.subtree_control'), `+${controller}`);
        } catch (err) {
          const busy = (err as NodeJS.ErrnoException).code === 'EBUSY';
          return `cannot enable ${controller} in ${current}/cgroup.subtree_control: ${errorText(err)}${
            busy ? '; a v2 cgroup with processes cannot give controllers to children: set cgroupRoot to a delegated cgroup' : ''
          }`;
        }
      }
    } else {
      await mkdir(posix.join(location.mountPoint, parent), { recursive: true });
    }
    try {
      await mkdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      await rmdir(dir); // left by an earlier run of the same task id; fails (EBUSY) if still in use
      await mkdir(dir);
    }
    return null;
  } catch (err) {
    return errorText(err);
  }
}

async function applyLimit(controller: 'memory' | 'cpu', version: CgroupVersion, dir: string, wanted: CgroupLimits): Promise<string | null> {
  const write = (file: string, value: string) => writeFile(posix.join(dir, file), value);
  const optional = (file: string, value: string) => write(file, value).catch(() => undefined);
  try {
    if (controller === 'memory') {
      const bytes = String(Math.round(wanted.memMiB * MiB));
      if (version === 1) {
        await write('memory.limit_in_bytes', bytes);
        // memsw (memory + swap) must be >= the memory limit, so it is written second; absent without swap accounting.
        await optional('memory.memsw.limit_in_bytes', bytes);
      } else {
        await write('memory.max', bytes);
        await optional('memory.swap.max', '0');
        await optional('memory.oom.group', '1');
      }
    } else {
      const quota = Math.max(1000, Math.round(wanted.cpus * CFS_PERIOD_US));
      if (version === 1) {
        await write('cpu.cfs_period_us', String(CFS_PERIOD_US));
        await write('cpu.cfs_quota_us', String(quota));
      } else {
        await write('cpu.max', `${quota} ${CFS_PERIOD_US}`);
      }
    }
    return null;
  } catch (err) {
    return errorText(err);
  }
}
