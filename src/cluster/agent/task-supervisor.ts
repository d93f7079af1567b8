// One task on its agent, from the moment it runs to its end: follows each run's output to the master
// and its exit, runs it again under its restart policy (waiting its backoff), kills it, runs its
// probes (task-probes.ts), and ends it: reports how it ended and removes what the agent kept for it.
// One object per task, so that everything that can happen to one task is read in one place; the
// agent (agent.ts) only creates them, hands them kill orders and stops or drains them all.
//
// A stop of the agent leaves the task running, as a crash would (leaveRunning): its following ends
// after whatever wait it was in, and nothing of it is reported, killed or removed. A drain kills it
// with DRAIN_REASON, and its end is then reported `lost` (not the task's failure: its owner replaces it).
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../../shared/clock.ts';
import { systemTimers, type Timers } from '../../shared/timers.ts';
import type { TaskHandle } from '../drivers/driver.ts';
import { DRAIN_REASON, type LaunchOrder, type OutputBatch, type OutputSoFar, type ProbeReport, type StatusReport } from '../protocol.ts';
import type { RestartCounter, RunEnd } from '../restart-policy.ts';
import { exitReport } from './exit-report.ts';
import { pumpOutput } from './output-pump.ts';
import { removeRedactValues } from './redact-values.ts';
import { removeRestartState, saveRestartState, type RestartState } from './restart-state.ts';
import { removeProbeSetup, startTaskProbes, type ContainerExec, type TaskProbeSetup } from './task-probes.ts';

/** What every supervisor of an agent shares: the agent's link to its master, its directory, its state. */
export interface SupervisorDeps {
  /** The agent's directory, where its per-task files are kept (redact, restart, probes). */
  workDir: string;
  logger: Logger;
  /** Sends a batch of a task's output (MasterLink.sendOutput with the agent's id). */
  sendOutput(batch: OutputBatch): Promise<void>;
  /** Reports a task's status until the master has it (AgentReporter.status). */
  reportStatus(report: StatusReport): Promise<void>;
  reportProbe(report: ProbeReport): Promise<void>;
  /** Runs a command probe inside a container task (the docker driver's execIn), when the agent has one. */
  execInContainer?: ContainerExec;
  /** Starts the next run of a restarted task (RunStarter.start). */
  startRun(order: LaunchOrder): Promise<TaskHandle>;
  /** The agent is stopping or draining: no task runs again, and output delivery gives up sooner. */
  isStopping(): boolean;
  /** The task ended: its end was reported and its files removed (not called for a task left running). */
  ended(supervisor: TaskSupervisor): Promise<void>;
  clock?: Clock;
  timers?: Timers;
}

/** A task with a restart policy, as its runs go by. */
export interface Restarting {
  state: RestartState;
  counter: RestartCounter;
}

/** The task as the agent hands it over: its run going on, and what is known of it. */
export interface SupervisedTask {
  /** The run going on (a task with a restart policy has one per run). */
  handle: TaskHandle;
  /** SIGTERM → SIGKILL grace of the task (its spec's, when this agent knows it). */
  killGraceMs: number;
  /** Values masked in its output (TaskSpec.redact). */
  redact: readonly string[];
  /** A recovered task: the output the master already holds of this run, skipped and numbered on from (see pumpOutput). */
  resume?: OutputSoFar;
  restarting?: Restarting;
  /** What the master holds of the task's output as this run starts; nothing for a new task. */
  held?: OutputSoFar;
  /** The workspace it runs in (TaskSpec.workspace), when this agent launched it. */
  workspace?: string;
}

export const NO_OUTPUT: OutputSoFar = { chunks: 0, stdout: 0, stderr: 0 };

/** Ends the following of a task when the agent stops and leaves the task running (see leaveRunning). */
class LeftRunning extends Error {}

export class TaskSupervisor {
  readonly taskId: string;
  readonly killGraceMs: number;
  readonly workspace: string | undefined;
  /** Settles once the task ended and that was reported, or once its following ended because the agent left it running. */
  readonly done: Promise<void>;
  /** The current run. */
  private handle: TaskHandle;
  /** The current run's output as the pump reads it: destroyed when the agent stops following the task. */
  private output: Readable | undefined;
  private killReason: string | undefined;
  /** Between two runs of a restarted task (no process to kill): ends its wait for the next run early. */
  private wakeBetweenRuns: (() => void) | undefined;
  /** Ends a kill's shutdown delay early (the agent leaves the task running). */
  private endDelay: (() => void) | undefined;
  /** Stops its probes, when it has some. */
  private stopProbes: (() => void) | undefined;
  /** The agent stopped and left the task running: nothing more is reported or cleaned up for it. */
  private leftRunning = false;
  /** Its last run ended for good: its end is being reported. */
  private ending = false;
  private readonly clock: Clock;
  private readonly timers: Timers;

  constructor(
    private readonly deps: SupervisorDeps,
    task: SupervisedTask,
  ) {
    this.taskId = task.handle.taskId;
    this.handle = task.handle;
    this.killGraceMs = task.killGraceMs;
    this.workspace = task.workspace;
    this.clock = deps.clock ?? systemClock;
    this.timers = deps.timers ?? systemTimers;
    this.done = this.follow(task.redact, task.resume, task.restarting, task.held ?? NO_OUTPUT).catch((err: unknown) => {
      if (!(err instanceof LeftRunning)) throw err;
    });
  }

  /** The run going on, or none while the task waits between two runs (there is no process to sample). */
  get currentRun(): TaskHandle | undefined {
    return this.wakeBetweenRuns ? undefined : this.handle;
  }

  /** Starts the task's probes (once the master has it running: it takes verdicts only of running tasks). */
  startProbes(setup: TaskProbeSetup): void {
    if (this.deps.isStopping() || this.leftRunning || this.ending) return;
    this.stopProbes = startTaskProbes(this.taskId, setup, this.clock.now().getTime(), (report) => this.deps.reportProbe(report), this.deps.execInContainer);
  }

  /** Kills the task (a kill order, or a drain with DRAIN_REASON); the first reason given is the one reported. */
  /** Whether a kill was asked for: the task is being stopped (or will not run again). */
  get killing(): boolean {
    return this.killReason !== undefined;
  }

  async kill(graceMs: number, reason: string, delayMs = 0): Promise<void> {
    if (this.killReason) return;
    this.killReason = reason;
    if (this.wakeBetweenRuns) return this.wakeBetweenRuns(); // between two runs: nothing to kill
    // The shutdown delay: the task is already out of discovery; it serves what was sent to it meanwhile.
    // The agent stopping ends the wait without a kill: the next agent is sent the kill again.
    if (delayMs > 0 && !(await this.waitUnlessLeft(delayMs))) return;
    await this.handle.kill(graceMs).catch((err: Error) => this.deps.logger.error({ task: this.taskId, err: err.message }, 'kill failed'));
  }

  /**
   * The agent stops and leaves the task running, exactly as a crash would: its probes and the following
   * of its output end, a wait for its next run ends, and nothing of it is touched afterwards. The next
   * agent on this directory recovers it.
   */
  leaveRunning(): void {
    this.leftRunning = true;
    this.endDelay?.();
    this.stopProbes?.();
    this.output?.destroy();
    this.wakeBetweenRuns?.();
  }

  /** The following of the task, run after run; ends by throwing LeftRunning when the agent left it running. */
  private async follow(redact: readonly string[], resume: OutputSoFar | undefined, restarting: Restarting | undefined, held: OutputSoFar): Promise<void> {
    let end: StatusReport;
    for (;;) {
      const run = await this.followRun(redact, resume, held);
      this.throwIfLeftRunning();
      end = run.end;
      if (!restarting || this.deps.isStopping() || this.killReason !== undefined) break;
      // Without knowing what the master holds of its output, a next run's output could not be numbered.
      if (!run.held) break;
      const delayMs = restarting.counter.next(end.state as RunEnd, this.now() - restarting.state.runStartedAt);
      if (delayMs === null) break;
      const next = await this.restartAfter(restarting, end, delayMs, run.held);
      this.throwIfLeftRunning();
      if ('end' in next) {
        end = next.end;
        break;
      }
      held = next.held;
      resume = { chunks: held.chunks, stdout: 0, stderr: 0 }; // a new run's output: nothing to skip
    }
    this.ending = true;
    this.stopProbes?.();
    // Stopped by a drain: not the task's failure, its owner replaces it.
    if (end.state === 'killed' && this.killReason === DRAIN_REASON) end = { ...end, state: 'lost' };
    await this.deps.reportStatus(end);
    const { workDir } = this.deps;
    await removeProbeSetup(workDir, this.taskId).catch(() => undefined);
    await this.handle.destroy().catch(() => undefined);
    await removeRedactValues(workDir, this.taskId).catch(() => undefined);
    if (restarting) await removeRestartState(workDir, this.taskId).catch(() => undefined);
    await this.deps.ended(this);
  }

  /** Waits `ms`; false when the agent left the task running meanwhile (then nothing more is done to it). */
  private waitUnlessLeft(ms: number): Promise<boolean> {
    if (this.leftRunning) return Promise.resolve(false);
    return new Promise((resolve) => {
      const handle = this.timers.setTimeout(() => {
        this.endDelay = undefined;
        resolve(!this.leftRunning);
      }, ms);
      this.endDelay = () => {
        this.timers.clearTimeout(handle);
        this.endDelay = undefined;
        resolve(false);
      };
    });
  }

  /** After each wait in the following: once the agent left the task running, it touches it no more. */
  private throwIfLeftRunning(): void {
    if (this.leftRunning) throw new LeftRunning();
  }

  /**
   * One run: its output to the master (`resume`: what to number from and skip, see pumpOutput), its
   * exit. Returns how it ended and the output the master holds after it, given `heldBefore` (undefined
   * when the run's output could not be delivered).
   */
  private async followRun(redact: readonly string[], resume: OutputSoFar | undefined, heldBefore: OutputSoFar): Promise<{ end: StatusReport; held: OutputSoFar | undefined }> {
    const handle = this.handle;
    this.output = handle.logs();
    const output = pumpOutput(handle.taskId, this.output, (batch) => this.deps.sendOutput(batch), () => this.deps.isStopping(), redact, resume).catch((err: Error) => {
      if (!this.leftRunning) this.deps.logger.error({ task: handle.taskId, err: err.message }, 'task output lost');
      return undefined;
    });
    const exit = await handle.wait();
    const delivered = await output;
    const held = delivered && { chunks: delivered.chunks, stdout: heldBefore.stdout + delivered.stdout, stderr: heldBefore.stderr + delivered.stderr };
    return { end: exitReport(handle.taskId, exit, this.killReason, handle.limits), held };
  }

  /**
   * Between two runs of a restarted task: records the restart with the master (its one store write),
   * says so in the task's output, waits the backoff (a kill or the agent's shutdown ends the wait and
   * the task), then starts the next run. Returns what the master holds of the output as it starts
   * (`held`: what it held after the last run), or how the task ended instead.
   */
  private async restartAfter(restarting: Restarting, end: StatusReport, delayMs: number, held: OutputSoFar): Promise<{ held: OutputSoFar } | { end: StatusReport }> {
    const { state, counter } = restarting;
    const taskId = this.taskId;
    const restartAt = new Date(this.now() + delayMs);
    let wake = (): void => undefined;
    const waited = new Promise<void>((resolve) => {
      const timer = this.timers.setTimeout(resolve, delayMs);
      wake = () => {
        this.timers.clearTimeout(timer);
        resolve();
      };
    });
    this.wakeBetweenRuns = wake;
    await this.handle.destroy().catch(() => undefined);
    // A kill that came as the run ended, before the wait above could be woken.
    if (this.killReason !== undefined || this.deps.isStopping()) wake();
    this.throwIfLeftRunning();
    // Counted before it is told: an agent that stops during the wait resumes with this restart's number.
    Object.assign(state, { total: counter.total, inRow: counter.inRow });
    await saveRestartState(this.deps.workDir, state).catch((err: Error) => this.deps.logger.warn({ task: taskId, err: err.message }, 'restart state not saved'));
    await this.deps.reportStatus({ ...end, state: 'restarting', restarts: counter.total, restartAt: restartAt.toISOString() });
    const line = `[gantry] ${end.reason ?? end.state}; restart ${counter.total} in ${formatDelay(delayMs)}\n`;
    const chunk = { stream: 'stderr' as const, data: Buffer.from(line) };
    const base = await this.deps.sendOutput({ taskId, from: held.chunks, chunks: [chunk] }).then(
      () => ({ chunks: held.chunks + 1, stdout: held.stdout, stderr: held.stderr + chunk.data.length }),
      (err: Error) => {
        this.deps.logger.warn({ task: taskId, err: err.message }, 'restart line not delivered');
        return held;
      },
    );
    await waited;
    this.wakeBetweenRuns = undefined;
    this.throwIfLeftRunning();
    if (this.killReason !== undefined || this.deps.isStopping()) {
      return { end: { taskId, state: 'killed', exitCode: end.exitCode ?? null, reason: this.killReason ?? 'the agent was shut down' } };
    }
    // Saved before the run starts: an agent restart during the run must know where its output begins.
    Object.assign(state, { total: counter.total, inRow: counter.inRow, runStartedAt: this.now(), outputBase: base });
    await saveRestartState(this.deps.workDir, state).catch((err: Error) => this.deps.logger.warn({ task: taskId, err: err.message }, 'restart state not saved'));
    try {
      this.handle = await this.deps.startRun(state.order);
    } catch (err) {
      return { end: { taskId, state: 'failed', exitCode: null, reason: `failed to restart: ${(err as Error).message}` } };
    }
    // A kill that came while the run was being started.
    if (this.killReason !== undefined) await this.handle.kill(state.order.spec.killGraceMs).catch(() => undefined);
    // The new run's container has its own address on its container network (the master cleared the last one).
    else if (this.handle.address !== undefined) await this.deps.reportStatus({ taskId, state: 'running', address: this.handle.address });
    return { held: base };
  }

  private now(): number {
    return this.clock.now().getTime();
  }
}

/** 0.15s, 1.5s, 2m 8s: for the line a restart leaves in the task's output. */
function formatDelay(ms: number): string {
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(2))}s`;
  const s = Math.round(ms / 1000);
  return s % 60 === 0 ? `${s / 60}m` : `${Math.floor(s / 60)}m ${s % 60}s`;
}
