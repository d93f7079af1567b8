// The exec driver: runs a task as plain processes on the agent's host.
//
// - The task runs in its sandbox directory (created if missing), or in the shared working directory it
//   was given (a CI run's workspace), as the leader of its own process group
//   (spawned detached, so also its own session: no terminal, no SIGHUP when the agent goes).
// - Its environment is exactly launch.env, plus defaults when the caller did not set them:
//   PATH (the agent's PATH, or the usual system directories), HOME (the sandbox directory, so tools
//   that keep state in HOME, such as git and npm, work and stay inside the task's own directory), and,
//   with a user to run as, USER and LOGNAME.
// - With `launch.user` (not the agent's own), it runs as that user: its sandbox is the user's (0700),
//   and the command starts through setpriv after the prelude (exec-user.ts says why).
// - `spec.cmd` runs as `/bin/sh -c CMD`; `spec.args` is executed directly, argv[0] looked up in PATH.
//   Both start with a tiny `/bin/sh` prelude that joins the task's cgroups (cmd: in the task's own
//   shell; args: before `exec`), so the command never runs outside its limits and keeps the spawned
//   pid. A command that cannot be found ends with exit code 127 and the shell's message in `stderr`.
// - stdout and stderr are files in the sandbox (`stdout`, `stderr`) that the process writes itself:
//   no pipe through the agent, so a task outlives its agent and none of its output is lost. logs()
//   tails the files (output-tail.ts).
// - Memory and CPU limits with cgroups v1 or v2 when running as root (cgroups.ts); `limits` says what
//   is enforced, or why not.
// - The processes are started by the launcher helper (src/shared/launcher), not by this process: a
//   fork of the agent (or of the server it is embedded in) would block its event loop for milliseconds
//   per task. The helper outlives a crashed agent, stays the tasks' parent and writes each one's exit
//   status to `exit.json` in its sandbox.
// - `task.json` (task-record.ts) lets recover() find the task after a restart. The launcher helper
//   writes it right after the fork, before start() learns the pid: an agent killed between the two
//   would otherwise leave a running task nobody recovers, and its master would run it again.
//   destroy() (after the end was reported) removes it.
//
// A recovered task is followed like a live one: it ends when its main process (the group leader, found
// by pid and start time) ends, and what it left in its group and cgroups is then killed. Its exit code
// comes from `exit.json`; a task that ended while no agent ran is recovered as ended with that status.
// Unknown (exitCode and signal null, or not recovered at all when it had already ended) only when the
// helper died too (kill -9 of it, a reboot). A process that left both its process group (setsid) and,
// without cgroups, the driver's sight is not followed.
import path from 'node:path';
import { Invalid } from '../../shared/errors.ts';
import { failpoint } from '../../shared/failpoints.ts';
import type { TaskSpec } from '../types.ts';
import type { Driver, TaskHandle, TaskLaunch } from './driver.ts';
import { setUpTaskCgroup, TaskCgroup } from './cgroups.ts';
import { ExecTaskHandle, type MainExit } from './exec-task-handle.ts';
import { ImageAssembleHandle } from './image-assemble-handle.ts';
import { prepareTaskDirs, switchesTo, switchUserArgv } from './exec-user.ts';
import { groupMembers, isSameProcessAlive, readProcStat, sleep } from './process-group.ts';
import { EXIT_STATUS_FILE, findTaskRecords, readExitStatus, TASK_RECORD_FILE, type ExecTaskRecord } from './task-record.ts';
import { sharedLauncher, type ProcessLauncher, type SpawnedProcess } from '../../shared/launcher/launcher.ts';

export interface ExecDriverOptions {
  /** The cgroup path (inside each hierarchy) under which tasks get their cgroups; default `<agent's cgroup>/gantry`. */
  cgroupRoot?: string;
  /** Where the driver says what went wrong outside of a task's result (cgroups it could not remove, ...). */
  log?: (msg: string) => void;
  /** Who starts the processes; default the process's shared launcher helper (src/shared/launcher). */
  launcher?: ProcessLauncher;
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The prelude of a task with a future startAt: wait for the line the launcher helper writes at that
 * instant (end of file if the helper died: go on then), and give the command /dev/null as stdin.
 */
const START_GATE = 'read -r _ || :; exec </dev/null; ';

/** How often a recovered task (not our child: no exit event) is checked for having ended. */
const RECOVERED_POLL_MS = 200;

/** The argv the task runs: `/bin/sh -c CMD` for cmd, the args themselves for args. */
export function commandArgv(spec: Pick<TaskSpec, 'cmd' | 'args'>): string[] {
  const hasCmd = typeof spec.cmd === 'string' && spec.cmd.length > 0;
  const hasArgs = Array.isArray(spec.args) && spec.args.length > 0;
  if (hasCmd === hasArgs) throw new Invalid('a task needs exactly one of cmd and args');
  return hasCmd ? ['/bin/sh', '-c', spec.cmd!] : [...spec.args!];
}

/**
 * What is spawned: the command behind `prelude` (the cgroup join, run by the task's own shell before
 * anything else). A cmd is one shell running prelude then CMD, not a shell that execs a second one:
 * one exec less per task counts when tens start at once. Args go through `exec "$@"`, so argv[0] is
 * looked up in PATH and a missing program is the shell's exit 127.
 *
 * `switchUser` (exec-user.ts: setpriv and its options) runs the command as another user, after the
 * prelude: the root shell execs it, and it runs a second shell for a cmd (or the args themselves).
 */
export function launchArgv(spec: Pick<TaskSpec, 'cmd' | 'args'>, prelude: string, switchUser: readonly string[] = []): string[] {
  const argv = commandArgv(spec);
  const isCmd = typeof spec.cmd === 'string' && spec.cmd.length > 0;
  if (switchUser.length === 0) {
    if (isCmd) return ['/bin/sh', '-c', `${prelude}${spec.cmd}`];
    return ['/bin/sh', '-c', `${prelude}exec "$@"`, 'gantry-exec', ...argv];
  }
  if (prelude === '') return [...switchUser, ...argv];
  const switchText = switchUser.map(shellQuote).join(' ');
  return ['/bin/sh', '-c', `${prelude}exec ${switchText} "$@"`, 'gantry-exec', ...argv];
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** launch.env plus PATH, HOME (and with a user, USER and LOGNAME) when missing (see the top of this file). */
export function execEnvironment(launch: Pick<TaskLaunch, 'env' | 'sandboxDir' | 'user'>, agentPath = process.env.PATH): Record<string, string> {
  const user: Record<string, string> = launch.user ? { USER: launch.user.name, LOGNAME: launch.user.name } : {};
  return { PATH: agentPath || DEFAULT_PATH, HOME: launch.sandboxDir, ...user, ...launch.env };
}

export class ExecDriver implements Driver {
  readonly name = 'exec';

  private readonly launcher: ProcessLauncher;

  constructor(private readonly options: ExecDriverOptions = {}) {
    this.launcher = options.launcher ?? sharedLauncher(options.log);
  }

  async available(): Promise<boolean> {
    return process.platform === 'linux';
  }

  async start(launch: TaskLaunch): Promise<TaskHandle> {
    if (launch.spec.assemble) {
      // No process: the agent assembles the image itself (image-assemble-handle.ts).
      if (!launch.workingDir) throw new Error('an image assembly needs a workspace to read its files from');
      return new ImageAssembleHandle(launch.taskId, launch.spec.assemble, path.resolve(launch.workingDir), launch.registry);
    }
    commandArgv(launch.spec); // a task without a command fails before any directory is made
    const sandboxDir = path.resolve(launch.sandboxDir);
    const workingDir = launch.workingDir ? path.resolve(launch.workingDir) : sandboxDir;
    const user = switchesTo(launch.user) ? launch.user : undefined;
    const switchUser = user ? switchUserArgv(user) : [];
    await prepareTaskDirs(sandboxDir, workingDir, user);
    const env = execEnvironment({ env: launch.env, sandboxDir, ...(launch.user ? { user: launch.user } : {}) });
    const { cgroup, limits } = await setUpTaskCgroup(
      launch.taskId,
      { memMiB: launch.spec.mem, cpus: launch.spec.cpus },
      { cgroupRoot: this.options.cgroupRoot, log: this.options.log },
    );
    try {
      const releaseAt = launch.spec.startAt ? Date.parse(launch.spec.startAt) : undefined;
      // Waiting for its instant: the prelude reads the line the launcher helper writes to it then.
      const gate = releaseAt !== undefined && releaseAt > Date.now() ? START_GATE : '';
      const umask = user?.umask !== undefined ? `umask ${user.umask.toString(8).padStart(3, '0')}; ` : '';
      const argv = launchArgv(launch.spec, `${umask}${cgroup?.joinScript() ?? ''}${gate}`, switchUser);
      return await this.spawnTask(launch.taskId, sandboxDir, workingDir, argv, env, cgroup, limits, gate ? releaseAt : undefined);
    } catch (err) {
      await cgroup?.remove(this.options.log);
      throw err;
    }
  }

  private async spawnTask(
    taskId: string,
    sandboxDir: string,
    workingDir: string,
    argv: string[],
    env: Record<string, string>,
    cgroup: TaskCgroup | null,
    limits: string,
    releaseAt: number | undefined,
  ): Promise<ExecTaskHandle> {
    // The record recovery looks for is written by the helper right after the fork: killed at any
    // moment from here on, the next agent still finds the running task (and does not run it again).
    const record: Omit<ExecTaskRecord, 'pid' | 'pgid' | 'startTime'> = {
      driver: 'exec',
      taskId,
      startedAt: new Date().toISOString(),
      limits,
      cgroups: cgroup?.record ?? {},
    };
    let spawned: SpawnedProcess;
    try {
      spawned = await this.launcher.spawnDetached({
        argv,
        cwd: workingDir,
        env,
        stdoutPath: path.join(sandboxDir, 'stdout'),
        stderrPath: path.join(sandboxDir, 'stderr'),
        exitFile: path.join(sandboxDir, EXIT_STATUS_FILE),
        recordFile: path.join(sandboxDir, TASK_RECORD_FILE),
        record,
        ...(releaseAt !== undefined ? { releaseAt } : {}),
      });
    } catch (err) {
      throw new Error(`cannot start task ${taskId}: ${(err as Error).message}`);
    }
    failpoint('exec-after-spawn');
    const { pid, startTime } = spawned;
    const mainExited = spawned.exited.then((exit) => exit ?? followUntilGone(sandboxDir, pid, startTime));
    return new ExecTaskHandle({ taskId, limits, sandboxDir, pgid: pid, cgroup, mainExited, log: this.options.log });
  }

  async recover(sandboxRoot: string): Promise<TaskHandle[]> {
    const handles: TaskHandle[] = [];
    for (const { sandboxDir, record } of await findTaskRecords(sandboxRoot)) {
      const mainExited = (await this.stillRunning(record))
        ? followUntilGone(sandboxDir, record.pid, record.startTime)
        : await readExitStatus(sandboxDir, record.pid, record.startTime);
      // Ended while no agent ran and no launcher helper saw its end: nothing to report but "lost",
      // which the master concludes itself from the task's absence.
      if (mainExited === null) continue;
      const hasCgroups = record.cgroups.memory !== undefined || record.cgroups.cpu !== undefined;
      handles.push(
        new ExecTaskHandle({
          taskId: record.taskId,
          limits: record.limits,
          sandboxDir,
          pgid: record.pgid,
          cgroup: hasCgroups ? new TaskCgroup(record.cgroups) : null,
          mainExited: Promise.resolve(mainExited),
          log: this.options.log,
        }),
      );
    }
    return handles;
  }

  /** Whether the task of `record` still has processes: its leader (same start time) or its group. */
  private async stillRunning(record: ExecTaskRecord): Promise<boolean> {
    const leader = await readProcStat(record.pid);
    // A pid in use by another process (other start time) means our group is gone: the kernel does
    // not hand out a pid while a process group of that number still has members.
    if (leader && leader.startTime !== record.startTime) return false;
    if (leader !== null && leader.state !== 'Z') return true;
    return (await groupMembers(record.pgid)).length > 0;
  }
}

/**
 * The end of a task that is not (or no longer) a child of our launcher helper: polls until the process
 * is gone, then takes its exit status from the exit file the helper that started it wrote, if that
 * helper outlived it; otherwise the status is unknown (exitCode and signal null).
 */
async function followUntilGone(sandboxDir: string, pid: number, startTime: number): Promise<MainExit> {
  while (await isSameProcessAlive(pid, startTime)) await sleep(RECOVERED_POLL_MS);
  return (await readExitStatus(sandboxDir, pid, startTime)) ?? { exitCode: null, signal: null };
}

export function createExecDriver(options: ExecDriverOptions = {}): ExecDriver {
  return new ExecDriver(options);
}
