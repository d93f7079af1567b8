// The TaskHandle of a container, for one this agent started and for one recovered after a restart
// alike (the engine knows both the same way).
//
// - wait(): the engine's wait, then an inspect for the exit code and the OOM flag. A container that
//   died from signal N reports the engine's code 128+N (as `docker run` does); `signal` stays null.
//   `oomKilled` is the engine's OOMKilled flag, counted only when the task failed (a shell whose
//   child was OOM-killed and that then exited 0 did not fail), as the exec driver counts it.
// - kill(graceMs): the image's stop signal (SIGTERM unless the image says otherwise), then SIGKILL
//   after the grace period, to the container (i.e. its PID 1; with the engine's init, that forwards
//   it). A second kill() with an earlier deadline brings the SIGKILL forward.
// - destroy(): kills a container that still runs (no grace) and marks it reported (REPORTED_MARKER in
//   the sandbox: recover() leaves it to the container GC); then removes it with its anonymous volumes,
//   or, with `keepExited`, leaves the exited container to the GC (docker-gc.ts) for its delay.
//   Idempotent, and a container that is already gone is fine. Then `released` runs (the driver removes
//   the task's container network when no other task uses it).
import type Dockerode from 'dockerode';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { TaskExit, TaskHandle, TaskUsage } from './driver.ts';
import { containerOutput } from './docker-output.ts';
import { REPORTED_MARKER } from './docker-gc.ts';
import { engineMessage } from './docker-pull.ts';

export interface DockerTaskHandleInit {
  taskId: string;
  limits: string;
  container: Dockerode.Container;
  /** The container's stop signal (Config.StopSignal), SIGTERM when the image sets none. */
  stopSignal?: string | undefined;
  /** Lines written at the start of the task's stderr output (the image pull). */
  preamble?: readonly string[];
  /** The task's sandbox (the reported marker goes there). */
  sandboxDir: string;
  /** Leave the exited container to the container GC instead of removing it in destroy(). */
  keepExited?: boolean;
  /** Its IP address on its container network (TaskHandle.address). */
  address?: string | undefined;
  /** Called at the end of destroy(): what the container held may go (its container network). */
  released?: () => Promise<void>;
  log?: (msg: string) => void;
}

/** How long to wait before asking the engine again after a failed wait or inspect (engine restarting). */
const RETRY_MS = 1000;
const WAIT_ATTEMPTS = 30;

function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number } | null)?.statusCode;
}

export class DockerTaskHandle implements TaskHandle {
  readonly taskId: string;
  readonly limits: string;
  readonly container: Dockerode.Container;
  readonly address?: string;
  private readonly released: (() => Promise<void>) | undefined;
  private readonly stopSignal: string;
  private readonly preamble: readonly string[];
  private readonly sandboxDir: string;
  private readonly keepExited: boolean;
  private readonly log: (msg: string) => void;
  private readonly exit: Promise<TaskExit>;
  private ended = false;
  private killRequested = false;
  private killDeadline: number | null = null;
  private killTimer: NodeJS.Timeout | null = null;
  private destroying: Promise<void> | null = null;

  constructor(init: DockerTaskHandleInit) {
    this.taskId = init.taskId;
    this.limits = init.limits;
    this.container = init.container;
    if (init.address !== undefined) this.address = init.address;
    this.released = init.released;
    this.stopSignal = init.stopSignal || 'SIGTERM';
    this.preamble = init.preamble ?? [];
    this.sandboxDir = init.sandboxDir;
    this.keepExited = init.keepExited ?? false;
    this.log = init.log ?? (() => undefined);
    this.exit = this.follow();
    this.exit.catch(() => undefined);
  }

  get id(): string {
    return this.container.id;
  }

  logs(): Readable {
    return containerOutput(this.preamble, {
      follow: () => this.container.logs({ follow: true, stdout: true, stderr: true }),
      read: () => this.readLog(),
      exited: this.exit,
    });
  }

  /** The whole log as a stream (dockerode's logs() without follow buffers it all in memory). */
  private readLog(): Promise<NodeJS.ReadableStream> {
    return new Promise((resolve, reject) => {
      this.container.modem.dial(
        {
          path: `/containers/${this.container.id}/logs?`,
          method: 'GET',
          options: { follow: false, stdout: true, stderr: true },
          isStream: true,
          statusCodes: { 200: true, 404: 'no such container', 500: 'server error' },
        },
        (err: unknown, stream: unknown) => (err ? reject(err) : resolve(stream as NodeJS.ReadableStream)),
      );
    });
  }

  /**
   * The engine's one-shot stats: CPU time in ns since the container started, memory less its page cache.
   * `one-shot` (API 1.41+; older engines ignore it): without it the engine waits for a second sample a
   * second later, to compute a CPU percentage we do not use, keeping the container in its stats
   * collector's loop meanwhile; with an agent's tens of containers sampled every interval, that is work
   * for nothing on the engine's side.
   */
  async usage(): Promise<TaskUsage> {
    const stats = (await this.container.stats({ stream: false, 'one-shot': true } as { stream: false })) as unknown as DockerStats;
    const cache = stats.memory_stats?.stats?.inactive_file ?? stats.memory_stats?.stats?.total_inactive_file ?? stats.memory_stats?.stats?.cache ?? 0;
    return {
      cpuSeconds: (stats.cpu_stats?.cpu_usage?.total_usage ?? 0) / 1e9,
      memBytes: Math.max(0, (stats.memory_stats?.usage ?? 0) - cache),
    };
  }

  wait(): Promise<TaskExit> {
    return this.exit;
  }

  async kill(graceMs: number): Promise<TaskExit> {
    if (this.ended) return this.exit;
    const grace = Math.max(0, graceMs);
    const deadline = Date.now() + grace;
    if (this.killDeadline === null || deadline < this.killDeadline) {
      const first = !this.killRequested;
      this.killRequested = true;
      this.killDeadline = deadline;
      if (this.killTimer) clearTimeout(this.killTimer);
      if (first && grace > 0) await this.signal(this.stopSignal);
      this.killTimer = setTimeout(() => void this.signal('SIGKILL'), grace);
      this.killTimer.unref();
    }
    return this.exit;
  }

  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      if (!this.ended) await this.kill(0).catch(() => undefined);
      await this.exit.catch(() => undefined);
      await writeFile(path.join(this.sandboxDir, REPORTED_MARKER), `${this.container.id}\n`).catch((err: Error) =>
        this.log(`docker driver: task ${this.taskId}: cannot mark its container reported: ${err.message}`),
      );
      if (!this.keepExited) {
        try {
          await this.container.remove({ force: true, v: true });
        } catch (err) {
          const status = statusOf(err);
          // 404: already gone; 409: the engine is removing it already.
          if (status !== 404 && status !== 409) this.log(`docker driver: cannot remove the container of task ${this.taskId}: ${engineMessage(err)}`);
        }
      }
      await this.released?.().catch((err: Error) => this.log(`docker driver: task ${this.taskId}: ${err.message}`));
    })();
    return this.destroying;
  }

  private async signal(signal: string): Promise<void> {
    try {
      await this.container.kill({ signal });
    } catch (err) {
      const status = statusOf(err);
      // 409: not running any more; 404: gone. Both mean there is nothing left to signal.
      if (status !== 409 && status !== 404) this.log(`docker driver: ${signal} to task ${this.taskId} failed: ${engineMessage(err)}`);
    }
  }

  private async follow(): Promise<TaskExit> {
    try {
      return await this.awaitExit();
    } finally {
      this.ended = true;
      if (this.killTimer) clearTimeout(this.killTimer);
    }
  }

  private async awaitExit(): Promise<TaskExit> {
    const gone: TaskExit = { exitCode: null, signal: null, oomKilled: false, killed: this.killRequested };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.container.wait();
        break;
      } catch (err) {
        if (statusOf(err) === 404) return { ...gone, killed: this.killRequested };
        if (attempt >= WAIT_ATTEMPTS) throw err;
        this.log(`docker driver: waiting for task ${this.taskId} failed (${engineMessage(err)}); asking again`);
        await sleep(RETRY_MS);
      }
    }
    const killed = this.killRequested;
    for (let attempt = 1; ; attempt++) {
      try {
        const { State: state } = await this.container.inspect();
        if (state.Running && attempt < WAIT_ATTEMPTS) {
          await sleep(RETRY_MS / 10); // the wait answered before the state was written
          continue;
        }
        const exitCode = state.ExitCode;
        return { exitCode, signal: null, oomKilled: state.OOMKilled && exitCode !== 0, killed };
      } catch (err) {
        if (statusOf(err) === 404) return { ...gone, killed };
        if (attempt >= WAIT_ATTEMPTS) throw err;
        await sleep(RETRY_MS);
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The part of the engine's container stats the usage needs (GET /containers/ID/stats?stream=false). */
interface DockerStats {
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; stats?: { inactive_file?: number; total_inactive_file?: number; cache?: number } };
}
