// The agent: registers with its master, polls for orders (the poll is its heartbeat) and carries them
// out, takes back at start the tasks an earlier run of it left running, and stops or drains. Each task
// it runs has its own supervisor (task-supervisor.ts: runs, output, restarts, kills, probes, its end);
// what it tells the master besides is its reporter's (agent-reporter.ts). The embedded agent and
// `gantry agent` are this same class with a different MasterLink, built by assemble-agent.ts.
import { rmdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Driver, TaskHandle } from '../drivers/driver.ts';
import { DRAIN_REASON, type KillOrder, type LaunchOrder, type MasterLink, type Order, type OutputSoFar, type RegistrationResult, type RegistryAccess } from '../protocol.ts';
import type { Attributes, Resources } from '../types.ts';
import { RestartCounter } from '../restart-policy.ts';
import { AgentReporter } from './agent-reporter.ts';
import { retryDelayMs, sleep } from './master-retry.ts';
import { loadRedactValues, pruneRedactValues, removeRedactValues, saveRedactValues } from './redact-values.ts';
import { loadRestartState, loadRestartStates, pruneRestartStates, removeRestartState, saveRestartState, type RestartState } from './restart-state.ts';
import { RunStarter } from './run-starter.ts';
import { loadProbeSetup, pruneProbeSetups, removeProbeSetup, saveProbeSetup, type ContainerExec } from './task-probes.ts';
import { NO_OUTPUT, TaskSupervisor, type Restarting, type SupervisedTask, type SupervisorDeps } from './task-supervisor.ts';
import { reclaimPrivateUids, sealSandbox } from './private-uids.ts';
import { TaskUsers } from './task-users.ts';
import { prepareTaskRoots, readAgentId, sandboxRoot, workspaceRoot, writeAgentId } from './work-dir.ts';

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

/** The grace of a recovered task whose spec this agent no longer has (it was started by an earlier run of it). */
const RECOVERED_KILL_GRACE_MS = 5000;

export class Agent {
  private agentId: string | undefined;
  private pollWaitMs = 20_000;
  private registryAccess: RegistryAccess | undefined;
  private readonly tasks = new Map<string, TaskSupervisor>();
  /** Tasks being started → the kill reason if a kill order came in meanwhile. */
  private readonly starting = new Map<string, string | undefined>();
  private stopping = false;
  /** The agent stopped and left its tasks running: nothing more is reported or cleaned up for them. */
  private leftRunning = false;
  private leaving: Promise<void> | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private gcTimer: NodeJS.Timeout | undefined;
  private collecting: Promise<void> = Promise.resolve();

  private readonly taskUsers: TaskUsers;
  private readonly runs: RunStarter;
  private readonly reporter: AgentReporter;
  /** What the tasks' supervisors share. */
  private readonly supervision: SupervisorDeps;

  constructor(private readonly options: AgentOptions) {
    const { link, drivers, workDir, logger } = options;
    this.taskUsers = options.taskUsers ?? TaskUsers.own();
    this.runs = new RunStarter({
      drivers,
      workDir,
      hostname: options.hostname,
      taskUsers: this.taskUsers,
      agentId: () => this.agentId,
      registry: () => this.registryAccess,
    });
    this.reporter = new AgentReporter({
      link,
      drivers,
      workDir,
      logger,
      agentId: () => this.agentId,
      isStopping: () => this.stopping,
      runningHandles: () => [...this.tasks.values()].flatMap((task) => (task.currentRun ? [task.currentRun] : [])),
      ...(options.usageIntervalMs !== undefined ? { usageIntervalMs: options.usageIntervalMs } : {}),
    });
    this.supervision = {
      workDir,
      logger,
      sendOutput: (batch) => link.sendOutput(this.agentId!, batch),
      reportStatus: (report) => this.reporter.status(report),
      reportProbe: (report) => link.reportProbe(this.agentId!, report),
      ...containerExec(drivers),
      startRun: (order) => this.runs.start(order),
      isStopping: () => this.stopping,
      ended: (task) => this.forget(task),
    };
  }

  get id(): string | undefined {
    return this.agentId;
  }

  /** The bundled registry's robot credentials the master gave at registration (for image pulls). */
  get registry(): RegistryAccess | undefined {
    return this.registryAccess;
  }

  /** Recovers running tasks, registers, and starts polling. Resolves once registered. */
  async start(): Promise<void> {
    const { workDir, drivers, logger } = this.options;
    await prepareTaskRoots(workDir, this.taskUsers, logger);
    this.agentId = await readAgentId(workDir);
    const recovered: TaskHandle[] = [];
    for (const driver of drivers) recovered.push(...(await driver.recover(sandboxRoot(workDir))));
    const recoveredIds = new Set(recovered.map((h) => h.taskId));
    // A task waiting between two runs when the agent stopped has no process to recover, but its restart
    // state: it is the agent's still, and runs again once registered (resumeBetweenRuns).
    const waiting = (await loadRestartStates(workDir)).filter((state) => !recoveredIds.has(state.order.taskId));
    const keptIds = new Set([...recoveredIds, ...waiting.map((state) => state.order.taskId)]);
    const privateUids = this.taskUsers.privateUids;
    if (privateUids) {
      const sealed = await reclaimPrivateUids(privateUids, { sandboxRoot: sandboxRoot(workDir), workspaceRoot: workspaceRoot(workDir) }, keptIds);
      if (sealed > 0) logger.info({ sealed }, 'sealed the sandboxes of tasks that ended while the agent was down');
    }
    await pruneRedactValues(workDir, keptIds);
    await pruneRestartStates(workDir, keptIds);
    await pruneProbeSetups(workDir, keptIds);
    // Registered first: the master says how much of each recovered task's output it already holds.
    const outputSoFar = await this.register([...keptIds]);
    for (const handle of recovered) {
      const held = outputSoFar?.[handle.taskId];
      const state = await loadRestartState(workDir, handle.taskId);
      const restarting = state ? { state, counter: new RestartCounter(state.order.spec.restart!, state.total, state.inRow) } : undefined;
      // The run's output is read from its start again: skip what the master holds of this run.
      const base = state?.outputBase ?? NO_OUTPUT;
      const resume = held && { chunks: held.chunks, stdout: Math.max(0, held.stdout - base.stdout), stderr: Math.max(0, held.stderr - base.stderr) };
      const task = this.track({
        handle,
        killGraceMs: state?.order.spec.killGraceMs ?? RECOVERED_KILL_GRACE_MS,
        redact: await loadRedactValues(workDir, handle.taskId),
        ...(resume ? { resume } : {}),
        ...(restarting ? { restarting } : {}),
        ...(held ? { held } : {}),
      });
      const probes = await loadProbeSetup(workDir, handle.taskId);
      if (probes) task.startProbes(probes);
      // Its container network's address, read again: what the master records for the task (unchanged, usually).
      if (held && handle.address !== undefined) void this.reporter.status({ taskId: handle.taskId, state: 'running', address: handle.address });
    }
    for (const state of waiting) await this.resumeBetweenRuns(state, outputSoFar?.[state.order.taskId]);
    this.loopDone = this.pollLoop();
    this.gcTimer = setInterval(() => void this.collectGarbage(), this.options.gcIntervalMs ?? DEFAULT_GC_INTERVAL_MS);
    this.gcTimer.unref();
    void this.collectGarbage();
    this.reporter.startSamplingUsage();
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
          const removed = (await driver.collectGarbage?.(sandboxRoot(this.options.workDir), new Set(this.knownTaskIds()))) ?? [];
          for (const line of removed) this.options.logger.info({ driver: driver.name }, `garbage collected: ${line}`);
        } catch (err) {
          this.options.logger.warn({ driver: driver.name, err: (err as Error).message }, 'garbage collection failed');
        }
      }
      await this.reporter.diskUsage().catch((err: Error) => this.options.logger.warn({ err: err.message }, 'disk usage not reported'));
      await this.reporter.images();
    });
    return this.collecting;
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
      this.reporter.stopSamplingUsage();
      for (const task of this.tasks.values()) task.leaveRunning();
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
      this.reporter.stopSamplingUsage();
      if (this.agentId) {
        await this.options.link.announceDrain(this.agentId).catch((err: Error) => this.options.logger.warn({ err: err.message }, 'the master was not told of the drain'));
      }
      this.options.link.close();
      this.options.logger.info({ tasks: this.tasks.size + this.starting.size }, 'draining: stopping every task');
      while (this.tasks.size > 0 || this.starting.size > 0) {
        for (const taskId of this.starting.keys()) this.starting.set(taskId, DRAIN_REASON);
        for (const task of this.tasks.values()) void task.kill(task.killGraceMs, DRAIN_REASON);
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
    await writeAgentId(this.options.workDir, result.agentId);
    this.options.logger.info({ agent: result.agentId, hostname: this.options.hostname }, 'agent registered with the master');
    return result.outputSoFar;
  }

  private async pollLoop(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        const orders = await this.options.link.pollOrders(this.agentId!, this.knownTaskIds(), this.pollWaitMs, this.killingTaskIds());
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

  /** The tasks this agent is stopping, or will stop once started (so the master does not send their kill again). */
  private killingTaskIds(): string[] {
    const running = [...this.tasks.values()].filter((task) => task.killing).map((task) => task.taskId);
    return [...running, ...[...this.starting].filter(([, killReason]) => killReason !== undefined).map(([taskId]) => taskId)];
  }

  private handle(order: Order): void {
    if (order.type === 'launch') void this.launch(order);
    else if (order.type === 'kill') void this.kill(order);
    else void this.drain().then(() => this.options.onDrained?.());
  }

  /** Keeps what the task needs after an agent restart, starts its first run and hands it to a supervisor. */
  private async launch(order: LaunchOrder): Promise<void> {
    const { workDir } = this.options;
    if (this.tasks.has(order.taskId) || this.starting.has(order.taskId) || this.stopping) return;
    this.starting.set(order.taskId, undefined);
    try {
      const redact = order.spec.redact ?? [];
      await saveRedactValues(workDir, order.taskId, redact);
      let restarting: Restarting | undefined;
      if (order.spec.restart) {
        const state: RestartState = { order, total: 0, inRow: 0, runStartedAt: Date.now(), outputBase: NO_OUTPUT };
        await saveRestartState(workDir, state);
        restarting = { state, counter: new RestartCounter(order.spec.restart) };
      }
      const probes = this.runs.probeSetup(order);
      if (probes) await saveProbeSetup(workDir, order.taskId, probes);
      const handle = await this.runs.start(order);
      const task = this.track({
        handle,
        killGraceMs: order.spec.killGraceMs,
        redact,
        ...(restarting ? { restarting } : {}),
        ...(order.spec.workspace ? { workspace: order.spec.workspace } : {}),
      });
      await this.reporter.status({ taskId: order.taskId, state: 'running', limits: handle.limits, ...(handle.address !== undefined ? { address: handle.address } : {}) });
      // Probed once the master has it running (it takes probe verdicts only of running tasks).
      if (probes) task.startProbes(probes);
      if (order.spec.image) this.reporter.imageUsed(order.spec.image);
    } catch (err) {
      this.starting.delete(order.taskId);
      await this.releaseTaskUser(order.taskId, order.spec.workspace);
      await removeRedactValues(workDir, order.taskId).catch(() => undefined);
      await removeRestartState(workDir, order.taskId).catch(() => undefined);
      await removeProbeSetup(workDir, order.taskId).catch(() => undefined);
      await this.reporter.status({ taskId: order.taskId, state: 'failed', exitCode: null, reason: `failed to start: ${(err as Error).message}` });
      return;
    }
    const killedWhileStarting = this.starting.get(order.taskId);
    this.starting.delete(order.taskId);
    if (killedWhileStarting !== undefined) {
      await this.kill({ type: 'kill', taskId: order.taskId, graceMs: order.spec.killGraceMs, reason: killedWhileStarting });
    }
  }

  /**
   * A task that was waiting between two runs when the agent stopped: its next run starts now (the rest
   * of its backoff is not kept), with its restart counts, its output numbered after what the master
   * holds. `held` undefined: the master no longer counts the task this agent's (declared lost while the
   * agent was away, and replaced by its owner): it is dropped.
   */
  private async resumeBetweenRuns(state: RestartState, held: OutputSoFar | undefined): Promise<void> {
    const { workDir, logger } = this.options;
    const taskId = state.order.taskId;
    const dropFiles = async (): Promise<void> => {
      await Promise.all([removeRedactValues(workDir, taskId), removeRestartState(workDir, taskId), removeProbeSetup(workDir, taskId)]).catch(() => undefined);
      await this.releaseTaskUser(taskId, state.order.spec.workspace);
    };
    if (!held) return dropFiles();
    Object.assign(state, { runStartedAt: Date.now(), outputBase: held });
    await saveRestartState(workDir, state);
    let handle: TaskHandle;
    try {
      handle = await this.runs.start(state.order);
    } catch (err) {
      await dropFiles();
      await this.reporter.status({ taskId, state: 'failed', exitCode: null, reason: `failed to restart: ${(err as Error).message}` });
      return;
    }
    logger.info({ task: taskId, restarts: state.total }, 'a task waiting to restart when the agent stopped runs again');
    const task = this.track({
      handle,
      killGraceMs: state.order.spec.killGraceMs,
      redact: await loadRedactValues(workDir, taskId),
      restarting: { state, counter: new RestartCounter(state.order.spec.restart!, state.total, state.inRow) },
      resume: { chunks: held.chunks, stdout: 0, stderr: 0 }, // a new run: nothing of it is held yet
      held,
      ...(state.order.spec.workspace ? { workspace: state.order.spec.workspace } : {}),
    });
    const probes = await loadProbeSetup(workDir, taskId);
    if (probes) task.startProbes(probes);
    if (handle.address !== undefined) await this.reporter.status({ taskId, state: 'running', address: handle.address });
  }

  private async kill(order: KillOrder): Promise<void> {
    if (this.starting.has(order.taskId)) {
      this.starting.set(order.taskId, order.reason);
      return;
    }
    const task = this.tasks.get(order.taskId);
    if (!task) {
      // Killed before its launch reached us: it never ran, say so.
      await this.reporter.status({ taskId: order.taskId, state: 'killed', exitCode: null, reason: order.reason });
      return;
    }
    await task.kill(order.graceMs, order.reason, order.delayMs ?? 0);
  }

  /** Hands a running task to its supervisor, which follows it from now on. */
  private track(task: SupervisedTask): TaskSupervisor {
    const supervisor = new TaskSupervisor(this.supervision, task);
    this.tasks.set(supervisor.taskId, supervisor);
    // Started as the agent stopped: left running like the others.
    if (this.leftRunning) supervisor.leaveRunning();
    return supervisor;
  }

  /** A task ended (reported and cleaned up by its supervisor): the agent no longer has it. */
  private async forget(task: TaskSupervisor): Promise<void> {
    this.tasks.delete(task.taskId);
    await this.releaseTaskUser(task.taskId, task.workspace);
    if (task.workspace) await this.removeEmptiedWorkspace(task.workspace);
  }

  /**
   * An ended task's sandbox is sealed (no later task of its user or uid enters it) and its private uid
   * freed, unless its workspace holds the uid for the run's next steps (freed with the workspace).
   */
  private async releaseTaskUser(taskId: string, workspace: string | undefined): Promise<void> {
    if (!this.taskUsers.switches) return;
    await sealSandbox(path.join(sandboxRoot(this.options.workDir), taskId)).catch((err: unknown) => {
      this.options.logger.warn({ task: taskId, err: (err as Error).message }, 'could not seal the sandbox of an ended task');
    });
    if (workspace === undefined) this.taskUsers.release({ taskId });
  }

  /**
   * A task user cannot remove its workspace itself (the workspaces root is root's, 0711): once a task
   * that emptied it ends (a CI run's cleanup), the agent removes the empty directory, unless another
   * of its tasks runs there. A workspace with anything in it stays.
   */
  private async removeEmptiedWorkspace(name: string): Promise<void> {
    for (const task of this.tasks.values()) if (task.workspace === name) return;
    const removed = await rmdir(path.join(workspaceRoot(this.options.workDir), name)).then(() => true, () => false);
    if (removed) this.taskUsers.release({ taskId: '', workspace: name });
  }
}

/** Command probes of container tasks run in their containers through the driver that has them. */
function containerExec(drivers: readonly Driver[]): { execInContainer?: ContainerExec } {
  const docker = drivers.find((d) => d.name === 'docker' && d.execIn);
  return docker ? { execInContainer: (taskId, argv, timeoutMs) => docker.execIn!(taskId, argv, timeoutMs) } : {};
}
