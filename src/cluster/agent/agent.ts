// The agent: registers with its master, polls for orders (the poll is its heartbeat), runs tasks with
// its drivers in sandbox directories, and reports their status and output. The embedded agent and
// `gantry agent` are this same class with a different MasterLink.
import { chmod, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Driver, TaskExit, TaskHandle } from '../drivers/driver.ts';
import { DRAIN_REASON, type KillOrder, type LaunchOrder, type MasterLink, type Order, type OutputSoFar, type RegistrationResult, type RegistryAccess, type StatusReport } from '../protocol.ts';
import type { Attributes, Resources } from '../types.ts';
import { sharedLauncher } from '../../shared/launcher/launcher.ts';
import { canonicalImageName } from '../image-reference.ts';
import { RestartCounter, type RunEnd } from '../restart-policy.ts';
import { pumpOutput } from './output-pump.ts';
import { loadRedactValues, pruneRedactValues, removeRedactValues, saveRedactValues } from './redact-values.ts';
import { loadRestartState, pruneRestartStates, removeRestartState, saveRestartState, type RestartState } from './restart-state.ts';
import { taskEnvironment } from './task-environment.ts';
import { execEnvironment } from '../drivers/exec.ts';
import { DEFAULT_USAGE_INTERVAL_MS, sampleUsage } from './usage-sampler.ts';
import { loadProbeSetup, pruneProbeSetups, removeProbeSetup, saveProbeSetup, startTaskProbes, type TaskProbeSetup } from './task-probes.ts';
import { TaskUsers } from './task-users.ts';
import { unreachableWorkDir } from './work-dir-reach.ts';
import { spreadNewSubdirectories } from '../../shared/spread-directories.ts';

export interface AgentOptions {
  link: MasterLink;
  drivers: Driver[];
  /** The agent's own directory: its id file, the tasks' sandboxes and the CI runs' workspaces. */
  workDir: string;
  hostname: string;
  resources: Resources;
  attributes: Attributes;
  logger: Logger;
  /** How often the drivers' garbage collection runs (exited and orphaned containers); default 60 s. */
  gcIntervalMs?: number;
  /** Called once a drain the master ordered (`gantry agent drain`) is over: `gantry agent` then exits. */
  onDrained?: () => void;
  /** How often the running tasks' CPU and memory are sampled and sent to the master; default 10 s. */
  usageIntervalMs?: number;
  /** The users its tasks may run as (task-users.ts resolveTaskUsers); default: its own user, no switching. */
  taskUsers?: TaskUsers;
}

const DEFAULT_GC_INTERVAL_MS = 60_000;

interface RunningTask {
  /** The current run (a task with a restart policy has one per run). */
  handle: TaskHandle;
  /** The current run's output as the pump reads it: destroyed when the agent stops following the task. */
  output?: Readable;
  /** SIGTERM → SIGKILL grace of the task (its spec's, when this agent knows it). */
  killGraceMs: number;
  killReason?: string;
  /** Settles when the task's exit and output were reported. */
  done: Promise<void>;
  /** Between two runs of a restarted task (no process to kill): ends its wait for the next run early. */
  wakeBetweenRuns?: () => void;
  /** The workspace it runs in (TaskSpec.workspace), when this agent launched it. */
  workspace?: string;
  /** Stops its probes (task-probes.ts), when it has some. */
  stopProbes?: () => void;
}

/** A task with a restart policy, as its runs go by. */
interface Restarting {
  state: RestartState;
  counter: RestartCounter;
}

const NO_OUTPUT: OutputSoFar = { chunks: 0, stdout: 0, stderr: 0 };

/** The grace of a recovered task whose spec this agent no longer has (it was started by an earlier run of it). */
const RECOVERED_KILL_GRACE_MS = 5000;

/** Ends the following of a task when the agent stops and leaves the task running (see Agent.stop). */
class LeftRunning extends Error {}

export class Agent {
  private agentId: string | undefined;
  private pollWaitMs = 20_000;
  private registryAccess: RegistryAccess | undefined;
  private readonly tasks = new Map<string, RunningTask>();
  /** Tasks being started → the kill reason if a kill order came in meanwhile. */
  private readonly starting = new Map<string, string | undefined>();
  private stopping = false;
  /** The agent stopped and left its tasks running: nothing more is reported or cleaned up for them. */
  private leftRunning = false;
  private leaving: Promise<void> | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private gcTimer: NodeJS.Timeout | undefined;
  private usageTimer: NodeJS.Timeout | undefined;
  private collecting: Promise<void> = Promise.resolve();
  /** The images last reported to the master (Driver.images), and the report under way. */
  private reportedImages: ReadonlySet<string> = new Set();
  private reportingImages: Promise<void> = Promise.resolve();

  private readonly taskUsers: TaskUsers;

  constructor(private readonly options: AgentOptions) {
    this.taskUsers = options.taskUsers ?? TaskUsers.own();
  }

  get id(): string | undefined {
    return this.agentId;
  }

  /** The bundled registry's robot credentials the master gave at registration (for image pulls). */
  get registry(): RegistryAccess | undefined {
    return this.registryAccess;
  }

  private get sandboxRoot(): string {
    return path.join(this.options.workDir, 'sandboxes');
  }

  private get workspaceRoot(): string {
    return path.join(this.options.workDir, 'workspaces');
  }

  /**
   * The roots of the per-task trees, flagged so that each new tree gets its own block group. The work
   * dir and both roots are 0711: a task user reaches its own sandbox and workspace (0700, its own) by
   * their names, and lists nothing (exec-user.ts).
   */
  private async prepareTaskRoots(): Promise<void> {
    await mkdir(this.options.workDir, { recursive: true });
    await chmod(this.options.workDir, 0o711);
    for (const root of [this.sandboxRoot, this.workspaceRoot]) {
      await mkdir(root, { recursive: true });
      await chmod(root, 0o711);
      const outcome = await spreadNewSubdirectories(root);
      if (!outcome.spread) this.options.logger.debug({ dir: root, reason: outcome.reason }, 'new task directories not spread over the disk');
    }
    const blocked = this.taskUsers.switches ? await unreachableWorkDir(this.sandboxRoot, this.taskUsers.users) : null;
    if (blocked) {
      this.options.logger.warn(blocked, `task user ${blocked.user} cannot pass through ${blocked.directory} to its sandbox: its tasks fail on $HOME and $GANTRY_SANDBOX; chmod o+x it or choose a data directory elsewhere`);
    }
  }

  /** Recovers running tasks, registers, and starts polling. Resolves once registered. */
  async start(): Promise<void> {
    await this.prepareTaskRoots();
    this.agentId = await this.readAgentId();
    const recovered: TaskHandle[] = [];
    for (const driver of this.options.drivers) recovered.push(...(await driver.recover(this.sandboxRoot)));
    const recoveredIds = new Set(recovered.map((h) => h.taskId));
    await pruneRedactValues(this.options.workDir, recoveredIds);
    // A task waiting between two runs when the agent stopped has no process to recover: it is lost.
    await pruneRestartStates(this.options.workDir, recoveredIds);
    await pruneProbeSetups(this.options.workDir, recoveredIds);
    // Registered first: the master says how much of each recovered task's output it already holds.
    const outputSoFar = await this.register(recovered.map((h) => h.taskId));
    for (const handle of recovered) {
      const held = outputSoFar?.[handle.taskId];
      const state = await loadRestartState(this.options.workDir, handle.taskId);
      const restarting = state ? { state, counter: new RestartCounter(state.order.spec.restart!, state.total, state.inRow) } : undefined;
      // The run's output is read from its start again: skip what the master holds of this run.
      const base = state?.outputBase ?? NO_OUTPUT;
      const resume = held && { chunks: held.chunks, stdout: Math.max(0, held.stdout - base.stdout), stderr: Math.max(0, held.stderr - base.stderr) };
      const killGraceMs = state?.order.spec.killGraceMs ?? RECOVERED_KILL_GRACE_MS;
      this.track(handle, killGraceMs, await loadRedactValues(this.options.workDir, handle.taskId), resume, restarting, held);
      const probes = await loadProbeSetup(this.options.workDir, handle.taskId);
      if (probes) this.startProbes(handle.taskId, probes);
    }
    this.loopDone = this.pollLoop();
    this.gcTimer = setInterval(() => void this.collectGarbage(), this.options.gcIntervalMs ?? DEFAULT_GC_INTERVAL_MS);
    this.gcTimer.unref();
    void this.collectGarbage();
    this.usageTimer = setInterval(() => void this.reportUsage(), this.options.usageIntervalMs ?? DEFAULT_USAGE_INTERVAL_MS);
    this.usageTimer.unref();
  }

  /**
   * One round of the drivers' garbage collection (exited containers past their delay, orphans). The
   * agent's tasks, running or being started, are never touched. Rounds do not overlap.
   */
  collectGarbage(): Promise<void> {
    this.collecting = this.collecting.then(async () => {
      if (this.stopping) return;
      for (const driver of this.options.drivers) {
        try {
          const removed = (await driver.collectGarbage?.(this.sandboxRoot, new Set(this.knownTaskIds()))) ?? [];
          for (const line of removed) this.options.logger.info({ driver: driver.name }, `garbage collected: ${line}`);
        } catch (err) {
          this.options.logger.warn({ driver: driver.name, err: (err as Error).message }, 'garbage collection failed');
        }
      }
      await this.reportDiskUsage().catch((err: Error) => this.options.logger.warn({ err: err.message }, 'disk usage not reported'));
      await this.reportImages();
    });
    return this.collecting;
  }

  /** Sends what the running tasks use now (tasks waiting between two runs have no process to sample). */
  private async reportUsage(): Promise<void> {
    const running = [...this.tasks.values()].filter((task) => !task.wakeBetweenRuns).map((task) => task.handle);
    if (running.length === 0 || this.stopping || !this.agentId) return;
    const report = await sampleUsage(running);
    if (report.tasks.length === 0 || this.stopping) return;
    await this.options.link.reportUsage(this.agentId, report).catch((err: Error) => this.options.logger.debug({ err: err.message }, 'usage not reported'));
  }

  /** Tells the master which images the engines hold, when that changed (one report at a time). */
  private reportImages(): Promise<void> {
    this.reportingImages = this.reportingImages.then(async () => {
      const names: string[] = [];
      for (const driver of this.options.drivers) names.push(...((await driver.images?.()) ?? []));
      const now = new Set(names);
      if (this.stopping || !this.agentId || (now.size === this.reportedImages.size && names.every((n) => this.reportedImages.has(n)))) return;
      await this.options.link.reportImages(this.agentId, [...now]);
      this.reportedImages = now;
    }).catch((err: Error) => this.options.logger.warn({ err: err.message }, 'images not reported'));
    return this.reportingImages;
  }

  /** Measures the sandboxes (`du`, in the launcher helper) and the drivers' own use, and tells the master. */
  private async reportDiskUsage(): Promise<void> {
    const du = await sharedLauncher().run(['du', '-sb', this.sandboxRoot], { timeoutMs: 60_000 });
    const sandboxesBytes = Number(/^(\d+)/.exec(du.stdout.toString())?.[1]);
    if (!Number.isFinite(sandboxesBytes)) throw new Error(`du -sb ${this.sandboxRoot}: ${du.stderr.toString().trim() || `exit ${du.exitCode}`}`);
    let containersBytes: number | null = null;
    for (const driver of this.options.drivers) {
      const bytes = await driver.diskUsage?.(this.sandboxRoot);
      if (bytes !== undefined) containersBytes = (containersBytes ?? 0) + bytes;
    }
    if (this.stopping || !this.agentId) return;
    await this.options.link.reportDiskUsage(this.agentId, { sandboxesBytes, containersBytes, measuredAt: new Date().toISOString() });
  }

  /**
   * Stops the agent and leaves its tasks running, exactly as a crash would: polling, reports and
   * garbage collection end, the tasks' output is no longer followed, and nothing of theirs is touched.
   * The next start of an agent on this directory recovers them (Driver.recover) and sends on their
   * output from where the master's copy ends. The process should exit afterwards (launcher.ts).
   */
  stop(): Promise<void> {
    this.leaving ??= (async () => {
      this.stopping = true;
      this.leftRunning = true;
      clearInterval(this.gcTimer);
      clearInterval(this.usageTimer);
      for (const task of this.tasks.values()) {
        task.stopProbes?.();
        task.output?.destroy();
        task.wakeBetweenRuns?.();
      }
      this.options.link.close();
      await this.loopDone;
    })();
    return this.leaving;
  }

  /**
   * Stops every task (each within its grace period), reports it lost so that its owner replaces it
   * elsewhere, then stops. The master is told first, so that nothing new is placed here meanwhile.
   */
  drain(): Promise<void> {
    this.leaving ??= (async () => {
      this.stopping = true;
      clearInterval(this.gcTimer);
      clearInterval(this.usageTimer);
      if (this.agentId) {
        await this.options.link.announceDrain(this.agentId).catch((err: Error) => this.options.logger.warn({ err: err.message }, 'the master was not told of the drain'));
      }
      this.options.link.close();
      this.options.logger.info({ tasks: this.tasks.size + this.starting.size }, 'draining: stopping every task');
      while (this.tasks.size > 0 || this.starting.size > 0) {
        for (const taskId of this.starting.keys()) this.starting.set(taskId, DRAIN_REASON);
        for (const [taskId, task] of this.tasks) void this.kill({ type: 'kill', taskId, graceMs: task.killGraceMs, reason: DRAIN_REASON });
        await Promise.allSettled([...this.tasks.values()].map((task) => task.done));
        if (this.starting.size > 0) await sleep(50);
      }
      await this.loopDone;
      this.options.logger.info('drained');
    })();
    return this.leaving;
  }

  private async register(runningTaskIds: string[] = this.knownTaskIds()): Promise<RegistrationResult['outputSoFar']> {
    const result = await this.options.link.register({
      agentId: this.agentId,
      hostname: this.options.hostname,
      resources: this.options.resources,
      attributes: this.options.attributes,
      drivers: this.options.drivers.map((d) => d.name),
      taskUsers: this.taskUsers.names,
      runningTaskIds,
    });
    this.agentId = result.agentId;
    this.pollWaitMs = result.pollWaitMs;
    this.registryAccess = result.registry;
    await writeFile(this.idFile(), `${result.agentId}\n`, { mode: 0o600 });
    await chmod(this.idFile(), 0o600);
    this.options.logger.info({ agent: result.agentId, hostname: this.options.hostname }, 'agent registered with the master');
    return result.outputSoFar;
  }

  private async pollLoop(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        const orders = await this.options.link.pollOrders(this.agentId!, this.knownTaskIds(), this.pollWaitMs);
        failures = 0;
        for (const order of orders) this.handle(order);
      } catch (err) {
        if (this.stopping) break;
        failures++;
        const status = (err as { status?: number }).status;
        this.options.logger.warn({ err: (err as Error).message, failures }, 'poll for orders failed');
        await sleep(retryDelayMs(failures));
        // The master forgot us (e.g. its store was reset): register again.
        if (status === 404 && !this.stopping) await this.register().catch(() => undefined);
      }
    }
  }

  /** The tasks this agent has: running, and being started (so the master does not send their launch again). */
  private knownTaskIds(): string[] {
    return [...this.tasks.keys(), ...this.starting.keys()];
  }

  private handle(order: Order): void {
    if (order.type === 'launch') void this.launch(order);
    else if (order.type === 'kill') void this.kill(order);
    else void this.drain().then(() => this.options.onDrained?.());
  }

  private async launch(order: LaunchOrder): Promise<void> {
    if (this.tasks.has(order.taskId) || this.starting.has(order.taskId) || this.stopping) return;
    this.starting.set(order.taskId, undefined);
    try {
      const redact = order.spec.redact ?? [];
      await saveRedactValues(this.options.workDir, order.taskId, redact);
      let restarting: Restarting | undefined;
      if (order.spec.restart) {
        const state: RestartState = { order, total: 0, inRow: 0, runStartedAt: Date.now(), outputBase: NO_OUTPUT };
        await saveRestartState(this.options.workDir, state);
        restarting = { state, counter: new RestartCounter(order.spec.restart) };
      }
      const probes = this.probeSetup(order);
      if (probes) await saveProbeSetup(this.options.workDir, order.taskId, probes);
      const handle = await this.startRun(order);
      this.track(handle, order.spec.killGraceMs, redact, undefined, restarting);
      if (order.spec.workspace) this.tasks.get(order.taskId)!.workspace = order.spec.workspace;
      await this.report({ taskId: order.taskId, state: 'running', limits: handle.limits });
      // Probed once the master has it running (it takes probe verdicts only of running tasks).
      if (probes) this.startProbes(order.taskId, probes);
      // A new image (pulled for this task): placement should know at once, not at the next GC round.
      if (order.spec.image && !this.reportedImages.has(canonicalImageName(order.spec.image))) void this.reportImages();
    } catch (err) {
      this.starting.delete(order.taskId);
      await removeRedactValues(this.options.workDir, order.taskId).catch(() => undefined);
      await removeRestartState(this.options.workDir, order.taskId).catch(() => undefined);
      await removeProbeSetup(this.options.workDir, order.taskId).catch(() => undefined);
      await this.report({ taskId: order.taskId, state: 'failed', exitCode: null, reason: `failed to start: ${(err as Error).message}` });
      return;
    }
    const killedWhileStarting = this.starting.get(order.taskId);
    this.starting.delete(order.taskId);
    if (killedWhileStarting !== undefined) {
      await this.kill({ type: 'kill', taskId: order.taskId, graceMs: order.spec.killGraceMs, reason: killedWhileStarting });
    }
  }

  /** What probing the task takes (its probes, ports, and for command probes where and as whom), or none. */
  private probeSetup(order: LaunchOrder): TaskProbeSetup | undefined {
    const { health, readiness } = order.spec;
    if (!health && !readiness) return undefined;
    const sandboxDir = path.join(this.sandboxRoot, order.taskId);
    const workingDir = order.spec.workspace ? path.join(this.workspaceRoot, order.spec.workspace) : undefined;
    const user = this.taskUsers.switches ? this.taskUsers.forTask(order.spec) : undefined;
    const env = execEnvironment({ env: taskEnvironment(order, this.options.hostname, sandboxDir, workingDir), sandboxDir, ...(user ? { user } : {}) });
    return {
      ...(health ? { health } : {}),
      ...(readiness ? { readiness } : {}),
      ports: order.allocation.ports,
      cwd: workingDir ?? sandboxDir,
      env,
      ...(user ? { user: user.name } : {}),
    };
  }

  private startProbes(taskId: string, setup: TaskProbeSetup): void {
    const entry = this.tasks.get(taskId);
    if (!entry || this.stopping) return;
    entry.stopProbes = startTaskProbes(taskId, setup, Date.now(), (report) => this.options.link.reportProbe(this.agentId!, report));
  }

  /** Starts one run of the task with the driver its spec calls for. */
  private startRun(order: LaunchOrder): Promise<TaskHandle> {
    const driver = this.pickDriver(order);
    const sandboxDir = path.join(this.sandboxRoot, order.taskId);
    // The spec's name was checked at submission ([A-Za-z0-9._-], no leading dot): it stays inside.
    const workingDir = order.spec.workspace ? path.join(this.workspaceRoot, order.spec.workspace) : undefined;
    const env = taskEnvironment(order, this.options.hostname, sandboxDir, workingDir);
    const user = this.taskUsers.forTask(order.spec); // throws for a user this agent does not allow
    return driver.start({
      taskId: order.taskId,
      spec: order.spec,
      allocation: order.allocation,
      sandboxDir,
      env,
      ...(workingDir ? { workingDir } : {}),
      ...(this.agentId ? { agentId: this.agentId } : {}),
      // The bundled registry's robot account: the docker driver pulls images from that registry with it.
      ...(this.registryAccess ? { registry: this.registryAccess } : {}),
      user, // exec: run as it (the driver switches only to a user other than its own)
    });
  }

  private pickDriver(order: LaunchOrder): Driver {
    const wanted = order.spec.image ? 'docker' : 'exec';
    const driver = this.options.drivers.find((d) => d.name === wanted);
    if (!driver) throw new Error(wanted === 'docker' ? 'this agent has no docker driver (no Docker engine answered when it started)' : `this agent has no ${wanted} driver`);
    return driver;
  }

  /**
   * Follows a running task until its output is delivered (with `redact` masked) and its exit reported;
   * `resume`: the output the master already holds (a recovered task). A task with a restart policy is
   * run again after each end its policy covers, waiting its backoff in between, until it ends for good.
   */
  private track(handle: TaskHandle, killGraceMs: number, redact: readonly string[], resume?: OutputSoFar, restarting?: Restarting, held: OutputSoFar = NO_OUTPUT): void {
    const taskId = handle.taskId;
    const entry: RunningTask = { handle, killGraceMs, done: Promise.resolve() };
    entry.done = this.follow(entry, redact, resume, restarting, held).catch((err: unknown) => {
      if (!(err instanceof LeftRunning)) throw err;
    });
    this.tasks.set(taskId, entry);
  }

  /** track()'s following of one task, run after run; ends by throwing LeftRunning when the agent stops without a drain. */
  private async follow(entry: RunningTask, redact: readonly string[], resume: OutputSoFar | undefined, restarting: Restarting | undefined, held: OutputSoFar): Promise<void> {
    const taskId = entry.handle.taskId;
    let end: StatusReport;
    for (;;) {
      const run = await this.followRun(entry, redact, resume, held);
      this.throwIfLeftRunning();
      end = run.end;
      if (!restarting || this.stopping || entry.killReason !== undefined) break;
      // Without knowing what the master holds of its output, a next run's output could not be numbered.
      if (!run.held) break;
      const delayMs = restarting.counter.next(end.state as RunEnd, Date.now() - restarting.state.runStartedAt);
      if (delayMs === null) break;
      const next = await this.restartAfter(entry, restarting, end, delayMs, run.held);
      this.throwIfLeftRunning();
      if ('end' in next) {
        end = next.end;
        break;
      }
      held = next.held;
      resume = { chunks: held.chunks, stdout: 0, stderr: 0 }; // a new run's output: nothing to skip
    }
    entry.stopProbes?.();
    // Stopped by a drain: not the task's failure, its owner replaces it.
    if (end.state === 'killed' && entry.killReason === DRAIN_REASON) end = { ...end, state: 'lost' };
    await this.report(end);
    await removeProbeSetup(this.options.workDir, taskId).catch(() => undefined);
    await entry.handle.destroy().catch(() => undefined);
    await removeRedactValues(this.options.workDir, taskId).catch(() => undefined);
    if (restarting) await removeRestartState(this.options.workDir, taskId).catch(() => undefined);
    this.tasks.delete(taskId);
    if (entry.workspace) await this.removeEmptiedWorkspace(entry.workspace);
  }

  /**
   * A task user cannot remove its workspace itself (the workspaces root is root's, 0711): once a task
   * that emptied it ends (a CI run's cleanup), the agent removes the empty directory, unless another
   * of its tasks runs there. A workspace with anything in it stays.
   */
  private async removeEmptiedWorkspace(name: string): Promise<void> {
    for (const task of this.tasks.values()) if (task.workspace === name) return;
    await rmdir(path.join(this.workspaceRoot, name)).catch(() => undefined);
  }

  /** After each wait in a task's following: once the agent left its tasks running, it touches them no more. */
  private throwIfLeftRunning(): void {
    if (this.leftRunning) throw new LeftRunning();
  }

  /**
   * One run: its output to the master (`resume`: what to number from and skip, see pumpOutput), its
   * exit. Returns how it ended and the output the master holds after it, given `heldBefore` (undefined
   * when the run's output could not be delivered).
   */
  private async followRun(
    entry: RunningTask,
    redact: readonly string[],
    resume: OutputSoFar | undefined,
    heldBefore: OutputSoFar,
  ): Promise<{ end: StatusReport; held: OutputSoFar | undefined }> {
    const handle = entry.handle;
    const send = (batch: Parameters<MasterLink['sendOutput']>[1]) => this.options.link.sendOutput(this.agentId!, batch);
    entry.output = handle.logs();
    const output = pumpOutput(handle.taskId, entry.output, send, () => this.stopping, redact, resume).catch((err: Error) => {
      if (!this.leftRunning) this.options.logger.error({ task: handle.taskId, err: err.message }, 'task output lost');
      return undefined;
    });
    const exit = await handle.wait();
    const delivered = await output;
    const held = delivered && { chunks: delivered.chunks, stdout: heldBefore.stdout + delivered.stdout, stderr: heldBefore.stderr + delivered.stderr };
    return { end: exitReport(handle.taskId, exit, entry.killReason, handle.limits), held };
  }

  /**
   * Between two runs of a restarted task: records the restart with the master (its one store write),
   * says so in the task's output, waits the backoff (a kill or the agent's shutdown ends the wait and
   * the task), then starts the next run. Returns what the master holds of the output as it starts
   * (`held`: what it held after the last run), or how the task ended instead.
   */
  private async restartAfter(
    entry: RunningTask,
    restarting: Restarting,
    end: StatusReport,
    delayMs: number,
    held: OutputSoFar,
  ): Promise<{ held: OutputSoFar } | { end: StatusReport }> {
    const { state, counter } = restarting;
    const taskId = state.order.taskId;
    const restartAt = new Date(Date.now() + delayMs);
    let wake = (): void => undefined;
    const waited = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delayMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    entry.wakeBetweenRuns = wake;
    await entry.handle.destroy().catch(() => undefined);
    // A kill that came as the run ended, before the wait above could be woken.
    if (entry.killReason !== undefined || this.stopping) wake();
    this.throwIfLeftRunning();
    await this.report({ ...end, state: 'restarting', restarts: counter.total, restartAt: restartAt.toISOString() });
    const line = `[gantry] ${end.reason ?? end.state}; restart ${counter.total} in ${formatDelay(delayMs)}\n`;
    const chunk = { stream: 'stderr' as const, data: Buffer.from(line) };
    const base = await this.options.link.sendOutput(this.agentId!, { taskId, from: held.chunks, chunks: [chunk] }).then(
      () => ({ chunks: held.chunks + 1, stdout: held.stdout, stderr: held.stderr + chunk.data.length }),
      (err: Error) => {
        this.options.logger.warn({ task: taskId, err: err.message }, 'restart line not delivered');
        return held;
      },
    );
    await waited;
    entry.wakeBetweenRuns = undefined;
    this.throwIfLeftRunning();
    if (entry.killReason !== undefined || this.stopping) {
      return { end: { taskId, state: 'killed', exitCode: end.exitCode ?? null, reason: entry.killReason ?? 'the agent was shut down' } };
    }
    // Saved before the run starts: an agent restart during the run must know where its output begins.
    Object.assign(state, { total: counter.total, inRow: counter.inRow, runStartedAt: Date.now(), outputBase: base });
    await saveRestartState(this.options.workDir, state).catch((err: Error) => this.options.logger.warn({ task: taskId, err: err.message }, 'restart state not saved'));
    try {
      entry.handle = await this.startRun(state.order);
    } catch (err) {
      return { end: { taskId, state: 'failed', exitCode: null, reason: `failed to restart: ${(err as Error).message}` } };
    }
    // A kill that came while the run was being started.
    if (entry.killReason !== undefined) await entry.handle.kill(state.order.spec.killGraceMs).catch(() => undefined);
    return { held: base };
  }

  private async kill(order: KillOrder): Promise<void> {
    if (this.starting.has(order.taskId)) {
      this.starting.set(order.taskId, order.reason);
      return;
    }
    const task = this.tasks.get(order.taskId);
    if (!task) {
      // Killed before its launch reached us: it never ran, say so.
      await this.report({ taskId: order.taskId, state: 'killed', exitCode: null, reason: order.reason });
      return;
    }
    if (task.killReason) return;
    task.killReason = order.reason;
    if (task.wakeBetweenRuns) return task.wakeBetweenRuns(); // between two runs: nothing to kill
    await task.handle.kill(order.graceMs).catch((err: Error) =>
      this.options.logger.error({ task: order.taskId, err: err.message }, 'kill failed'),
    );
  }

  private async report(report: StatusReport): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.options.link.reportStatus(this.agentId!, report);
        return;
      } catch (err) {
        const status = (err as { status?: number }).status;
        if (status === 404 || (this.stopping && attempt >= 3)) return; // the master no longer knows the task
        await sleep(retryDelayMs(attempt));
      }
    }
  }

  private idFile(): string {
    return path.join(this.options.workDir, 'agent-id');
  }

  private async readAgentId(): Promise<string | undefined> {
    try {
      return (await readFile(this.idFile(), 'utf8')).trim() || undefined;
    } catch {
      return undefined;
    }
  }
}

/** How a task's exit is reported: the kill reason wins, then the OOM killer, then the exit code. */
export function exitReport(taskId: string, exit: TaskExit, killReason: string | undefined, limits: string): StatusReport {
  if (exit.oomKilled) {
    return { taskId, state: 'failed', exitCode: exit.exitCode, reason: `killed by the OOM killer: memory limit exceeded (${limits})`, limits };
  }
  if (killReason !== undefined || exit.killed) {
    return { taskId, state: 'killed', exitCode: exit.exitCode, reason: killReason ?? 'killed', limits };
  }
  if (exit.exitCode === 0) return { taskId, state: 'finished', exitCode: 0, reason: 'exited with code 0', limits };
  const reason = exit.exitCode === null ? `terminated by signal ${exit.signal ?? 'unknown'}` : `exited with code ${exit.exitCode}`;
  return { taskId, state: 'failed', exitCode: exit.exitCode, reason, limits };
}

/**
 * How long to wait before trying the master again: 100 ms doubling to 1 s. Short on purpose: after a
 * master restart, reconciliation waits for every agent's next poll (a 5 s cap made it take 5 s).
 */
function retryDelayMs(failures: number): number {
  return Math.min(RETRY_CAP_MS, 100 * 2 ** Math.min(failures, 4));
}

const RETRY_CAP_MS = 1000;

/** 0.15s, 1.5s, 2m 8s: for the line a restart leaves in the task's output. */
function formatDelay(ms: number): string {
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(2))}s`;
  const s = Math.round(ms / 1000);
  return s % 60 === 0 ? `${s / 60}m` : `${Math.floor(s / 60)}m ${s % 60}s`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
