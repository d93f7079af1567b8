// Runs a CI run: admits it under its concurrency group, clones the repository into a workspace on an
// agent, then starts each step as a task on that agent (owner `ci:RUN:POSITION`) as soon as the steps
// it depends on have finished and its `when` holds, with its timeout and retries; ends the run, and
// recovers every active run after a restart (a step's task is found by its owner, never submitted
// twice). Cancel kills running steps within their grace period.
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { TERMINAL_STATES, parseOwner, type ClusterClient, type TaskRecord, type TaskSubmission } from '../../cluster/index.ts';
import type { Clock } from '../../shared/clock.ts';
import { systemTimers, type TimerHandle, type Timers as TimerFunctions } from '../../shared/timers.ts';
import { Conflict, GantryError, NotFound, Unavailable } from '../../shared/errors.ts';
import { SerialLane } from '../../shared/serial-lane.ts';
import type { Pipeline, Step, StepDeploy } from '../pipeline/index.ts';
import { stepRunsWhen } from '../pipeline/index.ts';
import type { SecretStore } from '../store/secrets.ts';
import { ACTIVE_RUN_STATES, type CiRun, type CiStep, type RunStore, type StepState } from '../store/runs.ts';
import { CLONE_STEP, failedSoFar, isFinished, readySteps, runOutcome } from './step-plan.ts';
import { cleanupTask, cloneTask, stepOwner, stepTask } from './step-tasks.ts';
import { deployedImage, type AppDeployer } from './deploy-step.ts';

/** How often a deploy step asks again while another deployment of its app runs. */
const DEPLOY_RETRY_MS = 1000;

/** A deploy step on its way to a deployment; `intent` set when a cancel or timeout stopped it. */
interface WaitingDeploy {
  abort: AbortController;
  intent?: { state: StepState; reason: string };
}

const deployKey = (runId: string, step: string): string => `${runId}/${step}`;

/** A run with no `timeout` of its own ends after this long. */
export const DEFAULT_RUN_TIMEOUT_MS = 60 * 60_000;

export interface RunEngineOptions {
  runs: RunStore;
  secrets: SecretStore;
  cluster: ClusterClient;
  clock: Clock;
  logger: Logger;
  /** Notified of every change of a run or one of its steps (for event streams and commit statuses). */
  onChange?: (run: CiRun) => void;
  /**
   * The bundled registry and the platform's robot account: every step gets them (GANTRY_REGISTRY,
   * GANTRY_REGISTRY_USERNAME, GANTRY_REGISTRY_PASSWORD, the password masked in its output), so a
   * pipeline pushes what it builds without a secret of its own.
   */
  registry?: () => { url: string; username: string; password: string } | undefined;
  /** Where the server's mirror of a repository is: a clone step on the server's host borrows its objects (cloneScript). */
  mirrorOf?: (cloneUrl: string) => Promise<string>;
  /** What runs the run and step timeouts (Node's timers by default). */
  timers?: TimerFunctions;
  /** The commit's time (seconds), from the server's mirror: an assembled image's SOURCE_DATE_EPOCH. */
  commitTime?: (cloneUrl: string, commit: string) => Promise<number | null>;
  /** The apps, as deploy steps reach them; without it a deploy step fails saying so. */
  deployer?: AppDeployer;
}

interface Timers {
  run?: TimerHandle;
  steps: Map<string, TimerHandle>;
}

export class RunEngine {
  private readonly lane = new SerialLane();
  private readonly timers = new Map<string, Timers>();
  /** Why a step's task is being killed (timeout, cancel): its end is recorded with that state. */
  private readonly killIntents = new Map<string, { state: StepState; reason: string }>();
  /** The same for a deploy step's deployment being canceled, by deployment id. */
  private readonly deployIntents = new Map<string, { state: StepState; reason: string }>();
  /** Deployments followed now (a restart follows them again), with their step's lines being written. */
  private readonly following = new Map<string, Promise<void>>();
  /** Deploy steps handing their image to the apps (waiting while another deployment of the app runs), by deployKey. */
  private readonly waitingDeploys = new Map<string, WaitingDeploy>();
  private unwatch: (() => void) | undefined;
  /** Aborted by stop(): deployments stop being followed, and their steps stay running for the next start. */
  private readonly stopping = new AbortController();
  private readonly timerFunctions: TimerFunctions;

  constructor(private readonly options: RunEngineOptions) {
    this.timerFunctions = options.timers ?? systemTimers;
  }

  private get now(): string {
    return this.options.clock.now().toISOString();
  }

  async start(): Promise<void> {
    this.unwatch = this.options.cluster.watch('ci:', (task) => {
      if (!TERMINAL_STATES.has(task.state)) return;
      void this.lane.run(() => this.taskEnded(task)).catch((err: Error) => this.options.logger.error({ err: err.message, task: task.id }, 'handling a CI task event failed'));
    });
    await this.lane.run(() => this.recover());
  }

  async stop(): Promise<void> {
    this.unwatch?.();
    this.stopping.abort();
    await Promise.all(this.following.values());
    for (const timers of this.timers.values()) {
      if (timers.run) this.timerFunctions.clearTimeout(timers.run);
      for (const t of timers.steps.values()) this.timerFunctions.clearTimeout(t);
    }
    await this.lane.idle();
  }

  /** Lets a step that waits for approval go, recording who approved it; 409 when it waits for none. */
  approve(runId: string, name: string, who: string): Promise<CiRun> {
    return this.lane.run(async () => {
      const run = await this.options.runs.get(runId);
      const definition = (run.definition as Pipeline | null)?.steps.find((s) => s.name === name);
      const step = (await this.options.runs.steps(run.id)).find((s) => s.name === name);
      if (!definition || !step) throw new NotFound(`run ${run.id} has no step "${name}"`);
      if (!definition.approval) throw new Conflict(`step "${name}" waits for no approval`);
      if (step.approvedAt !== null) throw new Conflict(`step "${name}" was approved by ${step.approvedBy} at ${step.approvedAt}`);
      if (!['pending', 'waiting'].includes(step.state)) throw new Conflict(`step "${name}" is ${step.state}: nothing to approve`);
      await this.options.runs.updateStep(run.id, name, [step.state], { approvedBy: who, approvedAt: this.now, ...(step.state === 'waiting' ? { state: 'pending', reason: null } : {}) });
      this.options.logger.info({ run: run.id, step: name, by: who }, 'CI step approved');
      this.changed(run);
      if (run.state === 'running') await this.advance(run.id);
      return this.options.runs.get(run.id);
    });
  }

  /** A new run (queued): cancels the runs it supersedes, then starts what its group admits. */
  enqueue(runId: string): Promise<void> {
    return this.lane.run(async () => {
      const run = await this.options.runs.get(runId);
      const pipeline = run.definition as Pipeline | null;
      if (pipeline?.concurrency?.cancelPrevious && run.branch !== null) {
        // A pull request's runs supersede each other (a new push to it), not those of its base branch.
        const same = run.pullRequest
          ? (await this.options.runs.list({ pipeline: run.pipeline, repository: run.repository, pullRequest: run.pullRequest.number, states: ACTIVE_RUN_STATES })).filter((r) => r.pullRequest !== null)
          : (await this.options.runs.list({ pipeline: run.pipeline, repository: run.repository, branch: run.branch, states: ACTIVE_RUN_STATES })).filter((r) => r.pullRequest === null);
        const older = same.filter((r) => r.createdAt < run.createdAt || (r.createdAt === run.createdAt && r.id < run.id));
        for (const old of older) await this.cancelNow(old, `superseded by run #${run.number} (${run.commit?.slice(0, 8) ?? run.ref})`);
      }
      await this.admit(run.concurrencyGroup, pipeline?.concurrency?.limit ?? Infinity);
    });
  }

  cancel(runId: string, reason: string): Promise<CiRun> {
    return this.lane.run(async () => {
      const run = await this.options.runs.get(runId);
      await this.cancelNow(run, reason);
      return this.options.runs.get(runId);
    });
  }

  // ---- admission -----------------------------------------------------------------------------------

  /** Starts the oldest queued runs of a group while it has room (runs without a group start at once). */
  private async admit(group: string | null, limit: number): Promise<void> {
    const queued = (await this.options.runs.list({ states: ['queued'] })).filter((r) => r.concurrencyGroup === group).reverse();
    // A canceled or timed-out run is still active until its steps have stopped (finishedAt is set
    // then): its killed steps get their grace period, and may spend it (a deploy cleaning up, a trap
    // on SIGTERM). Counting only `running` runs let the run that superseded it start at once, so with
    // `limit: 1` two runs of the group ran side by side for up to the grace period.
    let active = group === null ? 0 : await this.options.runs.countActiveInGroup(group);
    for (const run of queued) {
      if (group !== null && active >= limit) return;
      if (await this.begin(run)) active++;
    }
  }

  private async begin(run: CiRun): Promise<boolean> {
    const pipeline = run.definition as Pipeline | null;
    if (!pipeline) return false;
    if (!(await this.options.runs.updateRun(run.id, ['queued'], { state: 'running', startedAt: this.now }))) return false;
    const started = await this.options.runs.get(run.id);
    this.armRunTimeout(started, pipeline);
    this.changed(started);
    await this.startStep(started, pipeline, CLONE_STEP, 0);
    return true;
  }

  // ---- steps ---------------------------------------------------------------------------------------

  private async startStep(run: CiRun, pipeline: Pipeline, name: string, attempt: number): Promise<void> {
    const step = pipeline.steps.find((s) => s.name === name);
    if (step?.deploy) return this.startDeploy(run, step, step.deploy, attempt);
    const position = step ? pipeline.steps.indexOf(step) + 1 : 0;
    let submission: TaskSubmission;
    try {
      // A fork's pull request runs code from outside: no secret, and not the robot's password either.
      const trusted = !run.pullRequest?.fork;
      submission = step
        ? stepTask(
            run,
            pipeline,
            step,
            trusted ? await this.options.secrets.resolve({ ...pipeline.secrets, ...step.secrets }) : {},
            trusted ? this.options.registry?.() : undefined,
            step.build?.from && run.commit ? await this.options.commitTime?.(run.cloneUrl, run.commit) : null,
          )
        : cloneTask(run, pipeline, await this.options.mirrorOf?.(run.cloneUrl));
    } catch (err) {
      if (!(err instanceof GantryError)) throw err;
      await this.endStep(run, name, ['pending', 'running'], { state: 'failure', reason: err.message, exitCode: null });
      return;
    }
    const current = (await this.options.runs.steps(run.id)).find((s) => s.name === name)!;
    // taskId is cleared until this attempt's task exists: a retry left the failed attempt's task there,
    // and a restart in between took that task's end for this attempt's (spending one more attempt).
    if (!(await this.options.runs.updateStep(run.id, name, ['pending', 'running'], { state: 'running', attempt, startedAt: current.startedAt ?? this.now, taskId: null }))) return;
    let task: TaskRecord;
    try {
      task = await this.options.cluster.submit(stepOwner(run.id, position), submission);
    } catch (err) {
      if (!(err instanceof GantryError)) throw err;
      await this.endStep(run, name, ['running'], { state: 'failure', reason: `cannot start: ${err.message}`, exitCode: null });
      return;
    }
    await this.options.runs.updateStep(run.id, name, ['running'], { taskId: task.id, taskIds: [...current.taskIds, task.id] });
    this.armStepTimeout(run, step, task.id);
    this.changed(run);
    const latest = await this.options.cluster.get(task.id);
    if (TERMINAL_STATES.has(latest.state)) await this.taskEnded(latest);
  }

  // ---- deploy steps (on the server: deploy-step.ts) ----------------------------------------------------

  private async startDeploy(run: CiRun, step: Step, deploy: StepDeploy, attempt: number): Promise<void> {
    const current = (await this.options.runs.steps(run.id)).find((s) => s.name === step.name)!;
    if (!(await this.options.runs.updateStep(run.id, step.name, ['pending', 'running'], { state: 'running', attempt, startedAt: current.startedAt ?? this.now, taskId: null, deploymentId: null }))) return;
    this.changed(run);
    let image: string;
    try {
      image = deployedImage(deploy, await this.options.runs.steps(run.id));
      if (!this.options.deployer) throw new Unavailable('this server deploys no apps');
    } catch (err) {
      if (!(err instanceof GantryError)) throw err;
      await this.say(run.id, step.name, `cannot deploy: ${err.message}`);
      await this.endStep(run, step.name, ['running'], { state: 'failure', reason: err.message, exitCode: null });
      return;
    }
    await this.say(run.id, step.name, `deploying ${image} to ${deploy.app}`);
    this.armDeployTimeout(run, step);
    this.launchDeploy(run, step, deploy, image);
  }

  /**
   * Hands the image to the apps outside the lane: while another deployment of the app runs (409), the
   * step waits for it to end, saying so once, instead of failing (a push right after another one);
   * a cancel or the step's timeout stop the wait. Then, in the lane, the deployment is recorded and
   * followed, or the step ends.
   */
  private launchDeploy(run: CiRun, step: Step, deploy: StepDeploy, image: string): void {
    const deployer = this.options.deployer!;
    const waiting: WaitingDeploy = { abort: new AbortController() };
    const key = deployKey(run.id, step.name);
    this.waitingDeploys.set(key, waiting);
    const attempt = async (): Promise<{ deploymentId: string | null; version: string } | null> => {
      let told = false;
      for (;;) {
        if (waiting.abort.signal.aborted || this.stopping.signal.aborted) return null;
        try {
          return await deployer.deploy(deploy.app, image);
        } catch (err) {
          if (!(err instanceof Conflict)) throw err;
          if (!told) await this.say(run.id, step.name, `waiting for the app's running deployment to end: ${err.message}`);
          told = true;
          await delay(DEPLOY_RETRY_MS, undefined, { signal: AbortSignal.any([waiting.abort.signal, this.stopping.signal]) }).catch(() => undefined);
        }
      }
    };
    const ended = attempt().then(
      (started) =>
        this.lane.run(async () => {
          this.waitingDeploys.delete(key);
          // The server stops: the step stays running without a deployment, and the next start deploys again.
          if (this.stopping.signal.aborted && started === null) return;
          if (started === null || started.deploymentId === null) {
            const end = waiting.intent ?? { state: 'success' as const, reason: null };
            if (started) await this.say(run.id, step.name, `${deploy.app} runs this image already (version ${started.version}): nothing to deploy`);
            else await this.say(run.id, step.name, `${end.state}: ${end.reason}`);
            this.clearStepTimeout(run.id, step.name);
            await this.endStep(await this.options.runs.get(run.id), step.name, ['running'], { ...end, exitCode: null });
            return;
          }
          await this.options.runs.updateStep(run.id, step.name, ['running'], { deploymentId: started.deploymentId });
          await this.say(run.id, step.name, `version ${started.version}, deployment ${started.deploymentId}`);
          this.followDeployment(run, step, started.deploymentId);
          // Canceled while the apps took it: the deployment goes back as soon as it exists.
          if (waiting.intent) await this.stopDeployment(started.deploymentId, waiting.intent);
        }),
      (err: Error) =>
        this.lane.run(async () => {
          this.waitingDeploys.delete(key);
          const reason = err instanceof GantryError ? err.message : `the apps failed: ${err.message}`;
          if (!(err instanceof GantryError)) this.options.logger.error({ run: run.id, step: step.name, err: err.message }, 'a deploy step failed');
          await this.say(run.id, step.name, `cannot deploy: ${reason}`);
          this.clearStepTimeout(run.id, step.name);
          await this.endStep(await this.options.runs.get(run.id), step.name, ['running'], { state: 'failure', reason, exitCode: null });
        }),
    );
    this.following.set(key, ended.catch(() => undefined));
    void ended.finally(() => this.following.delete(key));
  }

  /** Stops a deploy step as `intent` says, whichever phase it is in: waiting for the app, or deploying. */
  private async stopDeployStep(runId: string, name: string, intent: { state: StepState; reason: string }): Promise<void> {
    const waiting = this.waitingDeploys.get(deployKey(runId, name));
    if (waiting) {
      waiting.intent = intent;
      waiting.abort.abort();
      return;
    }
    const step = (await this.options.runs.steps(runId)).find((s) => s.name === name);
    if (step?.state === 'running' && step.deploymentId) await this.stopDeployment(step.deploymentId, intent);
  }

  /**
   * Follows a deploy step's deployment until it ends (outside the lane: it takes as long as the
   * deployment), then ends the step in the lane: canceled or timed out when it was canceled for that.
   */
  private followDeployment(run: CiRun, step: Step, deploymentId: string): void {
    const deployer = this.options.deployer!;
    let lines = Promise.resolve();
    const say = (line: string): void => {
      lines = lines.then(() => this.say(run.id, step.name, line)).catch(() => undefined);
    };
    const followed = deployer
      .watch(deploymentId, say, this.stopping.signal)
      .catch((err: Error) => ({ succeeded: false, reason: `lost track of deployment ${deploymentId}: ${err.message}` }))
      .then(async (outcome) => {
        await lines;
        if (this.stopping.signal.aborted) return; // the server stops: the next start follows it again
        await this.lane.run(async () => {
          this.clearStepTimeout(run.id, step.name);
          const intent = this.deployIntents.get(deploymentId);
          this.deployIntents.delete(deploymentId);
          const end = intent ?? (outcome.succeeded ? { state: 'success' as const, reason: null } : { state: 'failure' as const, reason: outcome.reason ?? 'the deployment failed' });
          await this.say(run.id, step.name, end.state === 'success' ? 'deployed' : `${end.state}: ${end.reason}`);
          await this.endStep(await this.options.runs.get(run.id), step.name, ['running'], { ...end, exitCode: null });
        });
      })
      .catch((err: Error) => this.options.logger.error({ run: run.id, step: step.name, err: err.message }, 'ending a deploy step failed'))
      .finally(() => this.following.delete(deploymentId));
    this.following.set(deploymentId, followed);
  }

  /** Cancels a deploy step's deployment (the apps roll it back); the step then ends as `intent` says. */
  private async stopDeployment(deploymentId: string, intent: { state: StepState; reason: string }): Promise<void> {
    this.deployIntents.set(deploymentId, intent);
    await this.options.deployer?.cancel(deploymentId).catch((err: Error) => this.options.logger.warn({ deployment: deploymentId, err: err.message }, 'could not cancel a deployment'));
  }

  private armDeployTimeout(run: CiRun, step: Step): void {
    const limit = step.timeoutMs;
    if (!limit) return;
    const reason = `step "${step.name}" took longer than its timeout (${limit / 1000} s)`;
    this.timersOf(run.id).steps.set(
      step.name,
      this.timerFunctions.setTimeout(() => void this.lane.run(() => this.stopDeployStep(run.id, step.name, { state: 'timeout', reason })), limit),
    );
  }

  /** A line of a server-side step's log, with the time it was written. */
  private say(runId: string, step: string, line: string): Promise<void> {
    return this.options.runs.appendLine(runId, step, this.now, line);
  }

  /** A step's task ended: success, a retry, or a failure; then whatever that unblocks. */
  private async taskEnded(task: TaskRecord): Promise<void> {
    const [runId, positionText] = parseOwner(task.spec.owner).parts;
    const run = runId ? await this.options.runs.find(runId) : null;
    if (!run) return;
    const pipeline = run.definition as Pipeline;
    const position = Number(positionText);
    const name = position === 0 ? CLONE_STEP : pipeline.steps[position - 1]?.name;
    const step = name ? (await this.options.runs.steps(run.id)).find((s) => s.name === name) : undefined;
    if (!step || step.state !== 'running' || step.taskId !== task.id) return; // an older attempt
    this.clearStepTimeout(run.id, step.name);
    const intent = this.killIntents.get(task.id);
    this.killIntents.delete(task.id);
    if (intent) {
      await this.endStep(run, step.name, ['running'], { state: intent.state, reason: intent.reason, exitCode: task.exitCode });
      return;
    }
    if (task.state === 'finished') {
      // A build step's image, pinned by digest: what a later deploy step rolls out.
      if (task.result?.image) await this.options.runs.updateStep(run.id, step.name, ['running'], { image: task.result.image, digest: task.result.digest ?? null });
      if (step.name === CLONE_STEP) await this.options.runs.updateRun(run.id, ['running'], { workspaceHost: await this.options.cluster.agentHostname(task.agentId) });
      await this.endStep(await this.options.runs.get(run.id), step.name, ['running'], { state: 'success', reason: null, exitCode: task.exitCode });
      return;
    }
    const definition = pipeline.steps.find((s) => s.name === step.name);
    if (definition && step.attempt < definition.retry && run.state === 'running') {
      this.options.logger.info({ run: run.id, step: step.name, attempt: step.attempt + 1 }, 'retrying a failed step');
      await this.startStep(run, pipeline, step.name, step.attempt + 1);
      return;
    }
    await this.endStep(run, step.name, ['running'], { state: 'failure', reason: task.reason ?? `task ${task.state}`, exitCode: task.exitCode });
  }

  private async endStep(run: CiRun, name: string, from: readonly StepState[], end: { state: StepState; reason: string | null; exitCode: number | null }): Promise<void> {
    if (!(await this.options.runs.updateStep(run.id, name, from, { ...end, finishedAt: this.now }))) return;
    this.changed(run);
    await this.advance(run.id);
  }

  /** Starts or skips every step now ready; ends the run when all have finished. */
  private async advance(runId: string): Promise<void> {
    for (;;) {
      const run = await this.options.runs.get(runId);
      const pipeline = run.definition as Pipeline;
      const steps = await this.options.runs.steps(run.id);
      const states = new Map(steps.map((s) => [s.name, s.state]));
      if (run.state !== 'running') {
        // Canceled or timed out: nothing new starts; pending steps are canceled.
        for (const step of steps.filter((s) => s.state === 'pending' || s.state === 'waiting')) await this.options.runs.updateStep(run.id, step.name, [step.state], { state: 'canceled', reason: run.reason, finishedAt: this.now });
        return this.finishIfDone(run.id);
      }
      if (states.get(CLONE_STEP) === 'failure' || states.get(CLONE_STEP) === 'timeout') {
        for (const step of steps.filter((s) => s.state === 'pending')) await this.options.runs.updateStep(run.id, step.name, ['pending'], { state: 'skipped', reason: 'the repository could not be cloned', finishedAt: this.now });
        return this.finishIfDone(run.id);
      }
      const ready = readySteps(pipeline, states);
      if (ready.length === 0) return this.finishIfDone(run.id);
      for (const step of ready) {
        const context = { branch: run.branch, tag: run.tag, event: run.event, changedPaths: run.changedPaths, failedSoFar: failedSoFar(pipeline, states) };
        // At the attempt it is at: a step put back to pending by recover() (its task was never
        // submitted) keeps the attempts it already spent.
        const row = steps.find((s) => s.name === step.name);
        if (run.pullRequest?.fork && (step.build || step.deploy) && stepRunsWhen(step, context)) {
          const reason = `a pull request from a fork (${run.pullRequest.headRepository}) ${step.build ? 'pushes no image' : 'deploys nothing'}`;
          await this.options.runs.updateStep(run.id, step.name, ['pending'], { state: 'skipped', reason, finishedAt: this.now });
        } else if (stepRunsWhen(step, context) && step.approval && !row?.approvedAt) {
          await this.options.runs.updateStep(run.id, step.name, ['pending'], { state: 'waiting', reason: `waiting for approval: gantry ci approve ${run.id} ${step.name}` });
          this.changed(run);
        } else if (stepRunsWhen(step, context)) await this.startStep(run, pipeline, step.name, row?.attempt ?? 0);
        else await this.options.runs.updateStep(run.id, step.name, ['pending'], { state: 'skipped', reason: context.failedSoFar ? 'an earlier step failed' : 'its `when` does not match', finishedAt: this.now });
      }
      // Skipped steps may have unblocked others: look again.
    }
  }

  private async finishIfDone(runId: string): Promise<void> {
    const run = await this.options.runs.get(runId);
    if (!['running', 'canceled', 'timeout'].includes(run.state)) return;
    const pipeline = run.definition as Pipeline;
    const steps = await this.options.runs.steps(run.id);
    const outcome = runOutcome(pipeline, new Map(steps.map((s) => [s.name, s.state])), { canceled: run.state === 'canceled', timedOut: run.state === 'timeout' });
    if (!outcome) return;
    if (run.state === 'running') {
      const failed = steps.find((s) => (s.state === 'failure' || s.state === 'timeout') && pipeline.steps.find((p) => p.name === s.name)?.failure !== 'ignore');
      await this.options.runs.updateRun(run.id, ['running'], { state: outcome, finishedAt: this.now, reason: outcome === 'failure' ? `step "${failed?.name ?? CLONE_STEP}" failed${failed?.reason ? `: ${failed.reason}` : ''}` : null });
    } else if (!run.finishedAt) {
      await this.options.runs.updateRun(run.id, [run.state], { finishedAt: this.now });
    }
    this.clearRunTimers(run.id);
    await this.removeWorkspace(run);
    const ended = await this.options.runs.get(run.id);
    this.changed(ended);
    this.options.logger.info({ run: run.id, pipeline: run.pipeline, state: ended.state }, 'CI run ended');
    await this.admit(run.concurrencyGroup, pipeline.concurrency?.limit ?? Infinity);
  }

  private async cancelNow(run: CiRun, reason: string, state: 'canceled' | 'timeout' = 'canceled'): Promise<void> {
    if (!(await this.options.runs.updateRun(run.id, ACTIVE_RUN_STATES, { state, reason }))) return;
    this.options.logger.info({ run: run.id, reason }, state === 'timeout' ? 'CI run timed out' : 'CI run canceled');
    // Tell followers now: the steps may take their grace period to stop, and until then nothing else
    // changes (the run's event stream showed it "running" until every step had stopped).
    this.changed(await this.options.runs.get(run.id));
    for (const step of await this.options.runs.steps(run.id)) {
      if (step.state === 'running' && !step.taskId) await this.stopDeployStep(run.id, step.name, { state, reason });
      if (step.state !== 'running' || !step.taskId) continue;
      this.killIntents.set(step.taskId, { state, reason });
      await this.options.cluster.kill(step.taskId, reason).catch(() => undefined);
    }
    if (run.state === 'queued') await this.options.runs.updateRun(run.id, [state], { finishedAt: this.now });
    await this.advance(run.id);
  }

  // ---- timeouts, workspace, recovery ---------------------------------------------------------------

  private armRunTimeout(run: CiRun, pipeline: Pipeline): void {
    const limit = pipeline.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
    const left = Date.parse(run.startedAt ?? this.now) + limit - this.options.clock.now().getTime();
    const timers = this.timersOf(run.id);
    if (timers.run) this.timerFunctions.clearTimeout(timers.run);
    timers.run = this.timerFunctions.setTimeout(() => this.lane.run(async () => this.cancelNow(await this.options.runs.get(run.id), `the run took longer than its timeout (${limit / 1000} s)`, 'timeout')), Math.max(0, left));
  }

  private armStepTimeout(run: CiRun, step: Step | undefined, taskId: string): void {
    const limit = step?.timeoutMs;
    if (!limit) return;
    const name = step.name;
    this.timersOf(run.id).steps.set(
      name,
      this.timerFunctions.setTimeout(() => {
        const reason = `step "${name}" took longer than its timeout (${limit / 1000} s)`;
        this.killIntents.set(taskId, { state: 'timeout', reason });
        return this.options.cluster.kill(taskId, reason).catch(() => undefined);
      }, limit),
    );
  }

  private clearStepTimeout(runId: string, name: string): void {
    const timers = this.timers.get(runId);
    const timer = timers?.steps.get(name);
    if (timer) this.timerFunctions.clearTimeout(timer);
    timers?.steps.delete(name);
  }

  private clearRunTimers(runId: string): void {
    const timers = this.timers.get(runId);
    if (timers?.run) this.timerFunctions.clearTimeout(timers.run);
    for (const t of timers?.steps.values() ?? []) this.timerFunctions.clearTimeout(t);
    this.timers.delete(runId);
  }

  private timersOf(runId: string): Timers {
    let timers = this.timers.get(runId);
    if (!timers) this.timers.set(runId, (timers = { steps: new Map() }));
    return timers;
  }

  /**
   * The workspace goes with the run (an ephemeral build agent leaves nothing behind). The task empties
   * it and its agent removes the empty directory: the task's user may not (the workspaces root is root's).
   */
  private async removeWorkspace(run: CiRun): Promise<void> {
    if (!run.workspaceHost) return;
    const { owner, submission } = cleanupTask({ ...run, workspaceHost: run.workspaceHost }, run.definition as Pipeline);
    await this.options.cluster
      .submit(owner, submission)
      .catch((err: Error) => this.options.logger.warn({ run: run.id, err: err.message }, 'could not remove the workspace'));
  }

  private async recover(): Promise<void> {
    for (const run of await this.options.runs.list({ states: ['running'] })) {
      const pipeline = run.definition as Pipeline;
      this.armRunTimeout(run, pipeline);
      for (const step of await this.options.runs.steps(run.id)) {
        if (step.state !== 'running') continue;
        const definition = pipeline.steps.find((s) => s.name === step.name);
        if (definition?.deploy) {
          // A deployment under way is followed again; a deploy not yet started is started again.
          if (step.deploymentId) {
            this.armDeployTimeout(run, definition);
            this.followDeployment(run, definition, step.deploymentId);
          } else await this.options.runs.updateStep(run.id, step.name, ['running'], { state: 'pending' });
          continue;
        }
        const current = await this.recoverTask(run, pipeline, step);
        if (!current) {
          // The server stopped between marking the step and submitting its task.
          await this.options.runs.updateStep(run.id, step.name, ['running'], { state: 'pending' });
          continue;
        }
        if (TERMINAL_STATES.has(current.state)) await this.taskEnded(current);
        else this.armStepTimeout(run, pipeline.steps.find((s) => s.name === step.name), current.id);
      }
      await this.advance(run.id);
    }
    // Runs canceled or timed out whose steps were still stopping when the server went away. They were
    // left out, so their steps stayed "running" and the run never got its finishedAt (and, as it
    // still holds its place in its concurrency group, blocked the group); a killed step came back
    // as a failure, since the kill's intent lived in memory only. Kill what still runs again (the kill
    // may not have reached the agent), with the run's own state as the steps' end.
    for (const run of await this.options.runs.list({ states: ['canceled', 'timeout'] })) {
      if (run.finishedAt !== null) continue;
      const pipeline = run.definition as Pipeline;
      const intent = { state: run.state as StepState, reason: run.reason ?? `run ${run.state}` };
      for (const step of await this.options.runs.steps(run.id)) {
        if (step.state !== 'running') continue;
        const definition = pipeline.steps.find((s) => s.name === step.name);
        if (definition?.deploy && step.deploymentId) {
          this.followDeployment(run, definition, step.deploymentId);
          await this.stopDeployment(step.deploymentId, intent);
          continue;
        }
        const current = await this.recoverTask(run, pipeline, step);
        if (!current) {
          await this.options.runs.updateStep(run.id, step.name, ['running'], { ...intent, finishedAt: this.now });
          continue;
        }
        this.killIntents.set(current.id, intent);
        if (TERMINAL_STATES.has(current.state)) await this.taskEnded(current);
        else await this.options.cluster.kill(current.id, intent.reason).catch(() => undefined);
      }
      await this.advance(run.id);
    }
    const groups = new Map<string | null, number>();
    for (const run of await this.options.runs.list({ states: ['queued'] })) groups.set(run.concurrencyGroup, (run.definition as Pipeline | null)?.concurrency?.limit ?? Infinity);
    for (const [group, limit] of groups) await this.admit(group, limit);
  }

  /** The task of a step found running after a restart (recorded on the step if it was not yet), or null. */
  private async recoverTask(run: CiRun, pipeline: Pipeline, step: CiStep): Promise<TaskRecord | null> {
    const position = step.name === CLONE_STEP ? 0 : pipeline.steps.findIndex((s) => s.name === step.name) + 1;
    const tasks = await this.options.cluster.findByOwner(stepOwner(run.id, position));
    const current = step.taskId ? tasks.find((t) => t.id === step.taskId) : tasks.filter((t) => !step.taskIds.includes(t.id)).pop();
    if (!current) return null;
    if (!step.taskId) await this.options.runs.updateStep(run.id, step.name, ['running'], { taskId: current.id, taskIds: [...step.taskIds, current.id] });
    return current;
  }

  private changed(run: CiRun): void {
    this.options.onChange?.(run);
  }
}

export type { CiStep };
