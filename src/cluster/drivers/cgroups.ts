// Memory and CPU limits for one task with cgroups, v1 or v2, whichever hierarchy holds each controller
// (see cgroup-detect.ts). A task gets `<parent>/<task>` in each hierarchy it needs, where `<parent>` is
// `cgroupRoot` when given, else `<the agent's own cgroup>/gantry`: nesting under the agent keeps the
// agent's own limits above its tasks and is the place a delegated (container, systemd) agent may write.
//
// The task's process joins its cgroups before it runs the task's command: the driver spawns a shell
// that writes its own pid into each cgroup.procs (joinScript) and then execs the command. Each such
// write waits for an RCU grace period (10–30 ms) unless the kernel's `favordynmods` is on
// (cgroup-favordynmods.ts, the agent's --cgroup-favordynmods).
//
// The task's directories and limit files are made by the launcher helper in one request, synchronously
// (src/shared/launcher): through this process's thread pool the same ~8 operations a task took 25–100 ms
// for a burst of 20 tasks on a busy server, against ~3 ms. The parents are prepared once per process.
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
  type CgroupMount,
  type CgroupVersion,
  type ControllerLocation,
  type ProcessCgroups,
} from './cgroup-detect.ts';
import { signalEach, sleep } from './process-group.ts';
import { sharedLauncher, type DirSetup } from '../../shared/launcher/launcher.ts';

export interface CgroupLimits {
  /** MiB; 0 = no memory limit. */
  memMiB: number;
  /** CPUs as a CFS quota; 0 = no CPU limit. */
  cpus: number;
}

export interface CgroupSetupOptions {
  /** The cgroup path (inside each hierarchy) that holds the tasks' cgroups; default `<own cgroup>/gantry`. */
  cgroupRoot?: string;
  /** Who makes the task's directories and writes its limits; default the shared launcher helper. */
  makeDirs?: (setups: DirSetup[]) => Promise<Array<string | null>>;
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

interface HostCgroupLayout {
  mounts: CgroupMount[];
  self: ProcessCgroups;
  /** The controllers the v2 hierarchy offers, null without one. */
  v2Controllers: string[] | null;
}

let layoutOfThisProcess: Promise<HostCgroupLayout> | null = null;

/**
 * Where the hierarchies are and which cgroup this process is in: read once per process (it does not
 * change while the agent runs), not for every task (five /proc and cgroupfs reads a launch).
 */
function hostCgroupLayout(): Promise<HostCgroupLayout> {
  layoutOfThisProcess ??= (async () => {
    const [mountInfo, procCgroup] = await Promise.all([readFile('/proc/self/mountinfo', 'utf8'), readFile('/proc/self/cgroup', 'utf8')]);
    const mounts = parseMountInfo(mountInfo);
    const self = parseProcCgroup(procCgroup);
    const unified = unifiedHierarchy(mounts, self);
    const v2Controllers = unified
      ? (await readFile(posix.join(unified.mountPoint, 'cgroup.controllers'), 'utf8').catch(() => '')).trim().split(/\s+/)
      : null;
    return { mounts, self, v2Controllers };
  })();
  layoutOfThisProcess.catch(() => (layoutOfThisProcess = null)); // a failed read is tried again next time
  return layoutOfThisProcess;
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

  let layout: HostCgroupLayout;
  try {
    layout = await hostCgroupLayout();
  } catch (err) {
    return { cgroup: null, limits: `not enforced: cannot read /proc (${errorText(err)})` };
  }
  const { mounts, self, v2Controllers } = layout;

  // Where each controller's cgroup goes; its parent is prepared once per process (parentReady).
  const planned: Array<{ controller: 'memory' | 'cpu'; location: ControllerLocation; dir: string }> = [];
  const failures: string[] = [];
  for (const controller of controllers) {
    const location = locateController(controller, mounts, self, v2Controllers);
    if (typeof location === 'string') {
      failures.push(`no writable ${controller} cgroup (${location})`);
      continue;
    }
    const parent = options.cgroupRoot ?? posix.join(location.ownPath, 'gantry');
    const why = await parentReady(location, parent, controller);
    if (why !== null) failures.push(`no writable ${controller} cgroup (${why})`);
    else planned.push({ controller, location, dir: posix.join(location.mountPoint, parent, cgroupName(taskId)) });
  }

  // The task's directories and limits in one request to the launcher helper, done synchronously there.
  const makeDirs = options.makeDirs ?? ((setups: DirSetup[]) => sharedLauncher().makeDirs(setups));
  const setups = planned.map(({ controller, location, dir }) => ({ dir, files: limitFiles(controller, location.version, wanted) }));
  let results = planned.length > 0 ? await makeDirs(setups) : [];
  if (results.some((r) => r?.startsWith('mkdir ') && r.endsWith(': ENOENT'))) {
    // A parent removed behind our back (an operator's cleanup): prepare the parents again, once.
    parentsReady.clear();
    for (const { controller, location } of planned) await parentReady(location, options.cgroupRoot ?? posix.join(location.ownPath, 'gantry'), controller);
    results = await makeDirs(setups);
  }
  const record: TaskCgroupRecord = {};
  for (const [i, { controller, location, dir }] of planned.entries()) {
    const reason = results[i] ?? null;
    if (reason === null) record[controller] = { version: location.version, dir };
    else failures.push(`no writable ${controller} cgroup (${reason})`);
  }

  const cgroup = new TaskCgroup(record);
  // Directories whose controller failed (e.g. a limit that could not be written) are not kept.
  for (const { dir } of planned) if (!cgroup.dirs.includes(dir)) await rmdir(dir).catch(() => undefined);
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

const parentsReady = new Map<string, Promise<string | null>>();

/**
 * Makes sure the tasks' parent cgroup exists (v2: with the controller handed down to its children on
 * the way). Done once per parent and controller in this process; a failure is tried again next time.
 */
function parentReady(location: ControllerLocation, parent: string, controller: string): Promise<string | null> {
  const key = `${location.mountPoint}\0${parent}\0${controller}`;
  let ready = parentsReady.get(key);
  if (!ready) {
    ready = prepareParent(location, parent, controller);
    parentsReady.set(key, ready);
    void ready.then((why) => why !== null && parentsReady.delete(key));
  }
  return ready;
}

async function prepareParent(location: ControllerLocation, parent: string, controller: string): Promise<string | null> {
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
    return null;
  } catch (err) {
    return errorText(err);
  }
}

/** The files that set a controller's limit, in the order they must be written. */
function limitFiles(controller: 'memory' | 'cpu', version: CgroupVersion, wanted: CgroupLimits): DirSetup['files'] {
  if (controller === 'memory') {
    const bytes = String(Math.round(wanted.memMiB * MiB));
    if (version === 1) {
      // memsw (memory + swap) must be >= the memory limit, so it is written second; absent without swap accounting.
      return [
        { name: 'memory.limit_in_bytes', content: bytes },
        { name: 'memory.memsw.limit_in_bytes', content: bytes, optional: true },
      ];
    }
    return [
      { name: 'memory.max', content: bytes },
      { name: 'memory.swap.max', content: '0', optional: true },
      { name: 'memory.oom.group', content: '1', optional: true },
    ];
  }
  const quota = String(Math.max(1000, Math.round(wanted.cpus * CFS_PERIOD_US)));
  if (version === 1) {
    return [
      { name: 'cpu.cfs_period_us', content: String(CFS_PERIOD_US) },
      { name: 'cpu.cfs_quota_us', content: quota },
    ];
  }
  return [{ name: 'cpu.max', content: `${quota} ${CFS_PERIOD_US}` }];
}
