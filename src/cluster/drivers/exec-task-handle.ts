// The TaskHandle of an exec task, for a task started by this agent and for one recovered after a
// restart alike: both are a process group (pgid), optional cgroups and two output files; they differ
// only in how the end of the main process is learned (`mainExited`).
//
// Lifetime: the task is its main process. When it exits, whatever it left behind in its process group
// or its cgroups (background children, daemons) is killed with SIGKILL before wait() resolves, as a
// container's processes die with its PID 1. During kill() they get the rest of the grace period first.
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { TaskExit, TaskHandle, TaskUsage } from './driver.ts';
import { taskUsage } from './task-usage.ts';
import type { TaskCgroup } from './cgroups.ts';
import { tailOutput } from './output-tail.ts';
import { removeTaskRecord } from './task-record.ts';
import { groupMembers, pollUntil, readProcStat, signalEach, signalGroup, sleep } from './process-group.ts';

/** Usage rounds sample every task at once: one scan of /proc serves the round (a process started since is counted next round). */
const USAGE_SCAN_AGE_MS = 2000;

export interface MainExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

export interface ExecTaskHandleInit {
  taskId: string;
  limits: string;
  sandboxDir: string;
  pgid: number;
  cgroup: TaskCgroup | null;
  /** Resolves when the task's main process has exited. */
  mainExited: Promise<MainExit>;
  log?: (msg: string) => void;
}

/** How long leftovers may take to disappear after SIGKILL before wait() resolves anyway. */
const REAP_LIMIT_MS = 5000;

export class ExecTaskHandle implements TaskHandle {
  readonly taskId: string;
  readonly limits: string;
  readonly sandboxDir: string;
  readonly pgid: number;
  private readonly cgroup: TaskCgroup | null;
  private readonly log: (msg: string) => void;
  private readonly exit: Promise<TaskExit>;
  private mainEnded = false;
  private killRequested = false;
  private killDeadline: number | null = null;
  private killTimer: NodeJS.Timeout | null = null;
  private destroying: Promise<void> | null = null;

  constructor(init: ExecTaskHandleInit) {
    this.taskId = init.taskId;
    this.limits = init.limits;
    this.sandboxDir = init.sandboxDir;
    this.pgid = init.pgid;
    this.cgroup = init.cgroup;
    this.log = init.log ?? (() => undefined);
    this.exit = this.follow(init.mainExited);
    this.exit.catch(() => undefined);
  }

  logs(): Readable {
    return tailOutput(
      [
        { stream: 'stdout', path: path.join(this.sandboxDir, 'stdout') },
        { stream: 'stderr', path: path.join(this.sandboxDir, 'stderr') },
      ],
      this.exit,
    );
  }

  wait(): Promise<TaskExit> {
    return this.exit;
  }

  async usage(): Promise<TaskUsage> {
    return taskUsage(await this.members(USAGE_SCAN_AGE_MS), this.cgroup?.record ?? null);
  }

  async kill(graceMs: number): Promise<TaskExit> {
    if (this.mainEnded) return this.exit;
    const deadline = Date.now() + Math.max(0, graceMs);
    if (this.killDeadline === null || deadline < this.killDeadline) {
      const first = !this.killRequested;
      this.killRequested = true;
      this.killDeadline = deadline;
      if (this.killTimer) clearTimeout(this.killTimer);
      if (first) await this.signalAll('SIGTERM');
      this.killTimer = setTimeout(() => void this.signalAll('SIGKILL'), Math.max(0, graceMs));
      this.killTimer.unref();
    }
    return this.exit;
  }

  /**
   * Kills the task if it still runs (no grace), removes its cgroups and its task record (so that the
   * next agent's recover() does not report it again). The sandbox and its output stay.
   */
  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      if (!this.mainEnded) await this.kill(0).catch(() => undefined);
      await this.exit.catch(() => undefined);
      await this.cgroup?.remove(this.log);
      await removeTaskRecord(this.sandboxDir).catch((err: Error) => this.log(`exec driver: task ${this.taskId}: ${err.message}`));
    })();
    return this.destroying;
  }

  private async follow(mainExited: Promise<MainExit>): Promise<TaskExit> {
    const main = await mainExited;
    this.mainEnded = true;
    const killed = this.killRequested;
    await this.reapLeftovers();
    if (this.killTimer) clearTimeout(this.killTimer);
    return { exitCode: main.exitCode, signal: main.signal, oomKilled: await this.oomKilled(main), killed };
  }

  /**
   * The live processes of the task: its process group and, with cgroups, everything in them. With
   * `maxAgeMs`, the group's members may come from a scan of /proc that recent, shared between tasks.
   */
  private async members(maxAgeMs = 0): Promise<number[]> {
    const pids = new Set(await groupMembers(this.pgid, maxAgeMs));
    for (const pid of (await this.cgroup?.pids()) ?? []) {
      const stat = await readProcStat(pid);
      if (stat && stat.state !== 'Z') pids.add(pid);
    }
    return [...pids];
  }

  private async signalAll(signal: NodeJS.Signals): Promise<void> {
    try {
      signalGroup(this.pgid, signal);
      // The cgroup catches processes that left the group (setsid); the group's own members already got
      // the signal, and a second SIGTERM would run their handlers twice (many programs read a second
      // one as "quit now").
      if (this.cgroup) {
        const escaped: number[] = [];
        for (const pid of await this.cgroup.pids()) {
          const stat = await readProcStat(pid);
          if (stat && stat.pgrp !== this.pgid) escaped.push(pid);
        }
        signalEach(escaped, signal);
      }
    } catch (err) {
      this.log(`exec driver: ${signal} to task ${this.taskId} failed: ${(err as Error).message}`);
    }
  }

  private async reapLeftovers(): Promise<void> {
    if (this.killDeadline !== null) {
      await pollUntil(async () => (await this.members()).length === 0, this.killDeadline);
    }
    const giveUp = Date.now() + REAP_LIMIT_MS;
    for (;;) {
      const left = await this.members();
      if (left.length === 0) return;
      if (Date.now() >= giveUp) {
        this.log(`exec driver: task ${this.taskId}: processes ${left.join(', ')} survived SIGKILL`);
        return;
      }
      try {
        signalGroup(this.pgid, 'SIGKILL');
        signalEach(left, 'SIGKILL');
      } catch (err) {
        this.log(`exec driver: task ${this.taskId}: cannot kill ${left.join(', ')}: ${(err as Error).message}`);
        return;
      }
      await sleep(20);
    }
  }

  /**
   * The kernel's word when it has one (an OOM kill in the task's memory cgroup, and the task failed);
   * on old v1 kernels without the `oom_kill` counter: the limit was hit and the task died of SIGKILL
   * that kill() did not send.
   */
  private async oomKilled(main: MainExit): Promise<boolean> {
    if (!this.cgroup || main.exitCode === 0) return false;
    const { kills, failcnt } = await this.cgroup.oomKills();
    if (kills !== null) return kills > 0;
    return failcnt > 0 && main.signal === 'SIGKILL' && !this.killRequested;
  }
}
