// The exec driver: runs a task as plain processes on the agent's host.
//
// - The task runs in its sandbox directory (created if missing), or in the shared working directory it
//   was given (a CI run's workspace), as the leader of its own process group
//   (spawned detached, so also its own session: no terminal, no SIGHUP when the agent goes).
// - Its environment is exactly launch.env, plus two defaults when the caller did not set them:
//   PATH (the agent's PATH, or the usual system directories) and HOME (the sandbox directory, so tools
//   that keep state in HOME, such as git and npm, work and stay inside the task's own directory).
// - `spec.cmd` runs as `/bin/sh -c CMD`; `spec.args` is executed directly, argv[0] looked up in PATH.
//   Both go through a tiny `/bin/sh` prelude that joins the task's cgroups and then `exec`s the
//   command, so the command never runs outside its limits and keeps the spawned pid. A command that
//   cannot be found ends with exit code 127 and the shell's message in `stderr`.
// - stdout and stderr are files in the sandbox (`stdout`, `stderr`) that the process writes itself:
//   no pipe through the agent, so a task outlives its agent and none of its output is lost. logs()
//   tails the files (output-tail.ts).
// - Memory and CPU limits with cgroups v1 or v2 when running as root (cgroups.ts); `limits` says what
//   is enforced, or why not.
// - start() writes `task.json` (task-record.ts) so recover() can find the task after a restart.
//
// A recovered task is followed like a live one: it ends when its main process (the group leader, found
// by pid and start time) ends, and what it left in its group and cgroups is then killed.
// What recover() does not do yet (the agent-restart issue): the exit code of a recovered task is
// unknown (exitCode null: its parent was the old agent), a task that ended while no agent ran is not
// reported at all, and a process that left both its process group (setsid) and, without cgroups, the
// driver's sight is not followed.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants, readFileSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { Invalid } from '../../shared/errors.ts';
import type { TaskSpec } from '../types.ts';
import type { Driver, TaskHandle, TaskLaunch } from './driver.ts';
import { setUpTaskCgroup, TaskCgroup } from './cgroups.ts';
import { ExecTaskHandle, type MainExit } from './exec-task-handle.ts';
import { groupMembers, isSameProcessAlive, parseProcStat, readProcStat, sleep } from './process-group.ts';
import { findTaskRecords, writeTaskRecord } from './task-record.ts';

export interface ExecDriverOptions {
  /** The cgroup path (inside each hierarchy) under which tasks get their cgroups; default `<agent's cgroup>/gantry`. */
  cgroupRoot?: string;
  /** Where the driver says what went wrong outside of a task's result (cgroups it could not remove, ...). */
  log?: (msg: string) => void;
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** How often a recovered task (not our child: no exit event) is checked for having ended. */
const RECOVERED_POLL_MS = 200;

/** The argv the task runs: `/bin/sh -c CMD` for cmd, the args themselves for args. */
export function commandArgv(spec: Pick<TaskSpec, 'cmd' | 'args'>): string[] {
  const hasCmd = typeof spec.cmd === 'string' && spec.cmd.length > 0;
  const hasArgs = Array.isArray(spec.args) && spec.args.length > 0;
  if (hasCmd === hasArgs) throw new Invalid('a task needs exactly one of cmd and args');
  return hasCmd ? ['/bin/sh', '-c', spec.cmd!] : [...spec.args!];
}

/** launch.env plus PATH and HOME when missing (see the top of this file). */
export function execEnvironment(launch: Pick<TaskLaunch, 'env' | 'sandboxDir'>, agentPath = process.env.PATH): Record<string, string> {
  return { PATH: agentPath || DEFAULT_PATH, HOME: launch.sandboxDir, ...launch.env };
}

export class ExecDriver implements Driver {
  readonly name = 'exec';

  constructor(private readonly options: ExecDriverOptions = {}) {}

  async available(): Promise<boolean> {
    return process.platform === 'linux';
  }

  async start(launch: TaskLaunch): Promise<TaskHandle> {
    const argv = commandArgv(launch.spec);
    const sandboxDir = path.resolve(launch.sandboxDir);
    await mkdir(sandboxDir, { recursive: true });
    const workingDir = launch.workingDir ? path.resolve(launch.workingDir) : sandboxDir;
    if (workingDir !== sandboxDir) await mkdir(workingDir, { recursive: true });
    const env = execEnvironment({ env: launch.env, sandboxDir });
    const { cgroup, limits } = await setUpTaskCgroup(
      launch.taskId,
      { memMiB: launch.spec.mem, cpus: launch.spec.cpus },
      { cgroupRoot: this.options.cgroupRoot, log: this.options.log },
    );
    try {
      return await this.spawnTask(launch.taskId, sandboxDir, workingDir, argv, env, cgroup, limits);
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
  ): Promise<ExecTaskHandle> {
    // Truncated for this run; O_APPEND because the task's processes share the files and must not
    // overwrite each other's output.
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_APPEND;
    const out = await open(path.join(sandboxDir, 'stdout'), flags, 0o644);
    let child: ChildProcess;
    let startTime = 0;
    let spawnError: Promise<Error> | undefined;
    let mainExited: Promise<MainExit> | undefined;
    try {
      const err = await open(path.join(sandboxDir, 'stderr'), flags, 0o644);
      try {
        child = spawn('/bin/sh', ['-c', `${cgroup?.joinScript() ?? ''}exec "$@"`, 'gantry-exec', ...argv], {
          cwd: workingDir,
          env,
          detached: true,
          stdio: ['ignore', out.fd, err.fd],
        });
        // Listen at once: a failed spawn reports its error on the next tick.
        const spawned = child;
        spawnError = new Promise<Error>((resolve) => spawned.once('error', resolve));
        mainExited = new Promise<MainExit>((resolve) => {
          spawned.once('exit', (exitCode, signal) => resolve({ exitCode, signal }));
        });
        // Read before any await: until the event loop runs again the child cannot have been reaped.
        if (child.pid !== undefined) startTime = readStartTime(child.pid);
      } finally {
        await err.close();
      }
    } finally {
      await out.close();
    }
    const pid = child.pid;
    if (pid === undefined || !mainExited) {
      const error = await spawnError;
      throw new Error(`cannot start task ${taskId}: ${error?.message ?? 'no pid'}`);
    }
    child.on('error', (err) => this.options.log?.(`exec driver: task ${taskId}: ${err.message}`));
    const handle = new ExecTaskHandle({ taskId, limits, sandboxDir, pgid: pid, cgroup, mainExited, log: this.options.log });
    await writeTaskRecord(sandboxDir, {
      driver: 'exec',
      taskId,
      pid,
      pgid: pid,
      startTime,
      startedAt: new Date().toISOString(),
      limits,
      cgroups: cgroup?.record ?? {},
    });
    return handle;
  }

  async recover(sandboxRoot: string): Promise<TaskHandle[]> {
    const handles: TaskHandle[] = [];
    for (const { sandboxDir, record } of await findTaskRecords(sandboxRoot)) {
      const leader = await readProcStat(record.pid);
      // A pid in use by another process (other start time) means our group is gone: the kernel does
      // not hand out a pid while a process group of that number still has members.
      if (leader && leader.startTime !== record.startTime) continue;
      const leaderAlive = leader !== null && leader.state !== 'Z';
      if (!leaderAlive && (await groupMembers(record.pgid)).length === 0) continue;
      const mainExited = (async (): Promise<MainExit> => {
        while (await isSameProcessAlive(record.pid, record.startTime)) await sleep(RECOVERED_POLL_MS);
        return { exitCode: null, signal: null }; // not our child: its exit status went to its new parent
      })();
      const hasCgroups = record.cgroups.memory !== undefined || record.cgroups.cpu !== undefined;
      handles.push(
        new ExecTaskHandle({
          taskId: record.taskId,
          limits: record.limits,
          sandboxDir,
          pgid: record.pgid,
          cgroup: hasCgroups ? new TaskCgroup(record.cgroups) : null,
          mainExited,
          log: this.options.log,
        }),
      );
    }
    return handles;
  }
}

/** The start time of `pid` from /proc, read synchronously; 0 without /proc (recover() then skips the task). */
function readStartTime(pid: number): number {
  try {
    return parseProcStat(pid, readFileSync(`/proc/${pid}/stat`, 'utf8'))?.startTime ?? 0;
  } catch {
    return 0;
  }
}

export function createExecDriver(options: ExecDriverOptions = {}): ExecDriver {
  return new ExecDriver(options);
}
