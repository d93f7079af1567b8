// What keeps apps running: for each app, its instances (the pool's tasks, InstanceTracker) are brought
// to what its current version asks, one reconcile at a time per app, run again at each change of its
// instances, of the app, or when a launch delay ends. A reconcile:
//   - splits the instances into current ones (launched with the current configuration: a version that
//     only scaled keeps its predecessor's) and old ones;
//   - with old ones, replaces them as Marathon's rolling upgrade does (deployments/rolling-replacement.ts:
//     never fewer healthy than the minimum, never more than the over-capacity); else scales to the count
//     (deployments/scaling.ts, kills by killSelection);
//   - kills an instance that turned unhealthy, unless more than half of the app's running instances did at
//     once: then the checker is suspected, not the app (a circuit breaker: no mass kill, a warning);
//   - launches what is missing once the app's launch delay (crash loops back off) allows.
// A running deployment gates its apps step by step (an app of a later step is left as it is), finishes a
// step when each of its apps has converged, and fails when it makes no progress within its deadline or its
// new instances keep failing; the service then rolls it back (onDeploymentFailed).
import type { ClusterClient, TaskRecord } from '../../cluster/index.ts';
import type { Clock } from '../../shared/clock.ts';
import type { Timers, TimerHandle } from '../../shared/timers.ts';
import type { Logger } from 'pino';
import {
  checkProgressDeadline,
  checksOf,
  isAvailable,
  marathonActionName,
  nextReplacementStep,
  nextScalingStep,
  recordProgress,
  type DeploymentAction,
  type DeploymentPlan,
  type DeploymentProgress,
  type InstanceView,
} from '../deployments/index.ts';
import type { AppDefinition } from '../definition/index.ts';
import { taskForInstance } from '../instances/to-task.ts';
import type { AppRecord, AppStore, AppVersion, DeploymentRecord } from '../store/app-store.ts';
import { InstanceTracker, type TrackedInstance } from './instance-tracker.ts';
import { LaunchBackoff } from './launch-backoff.ts';
import type { AppEvents } from './marathon-events.ts';
import { newInstanceId } from './instance-ids.ts';

/** An app as the runtime holds it: its row and its current version. */
export interface AppState {
  record: AppRecord;
  current: AppVersion;
}

export interface RunningDeployment {
  record: DeploymentRecord<DeploymentPlan>;
  startedAt: number;
  best: Map<string, DeploymentProgress | null>;
  lastProgressAt: number | null;
  /** Instances of the target version that ended badly since the deployment started, by app. */
  failedNew: Map<string, number>;
  /** Apps of the current step that have converged. */
  settled: Set<string>;
}

export interface AppsRuntimeOptions {
  store: AppStore;
  cluster: ClusterClient;
  events: AppEvents;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  /** A deployment that makes no progress for this long fails and is rolled back. */
  progressDeadlineSeconds: number;
  /** Instances get it as their shutdown delay: out of discovery at the kill, SIGTERM this much later. */
  drainDelayMs: number;
  /** A deployment failed: roll it back (the service writes the versions). */
  onDeploymentFailed(deployment: RunningDeployment, reason: string): Promise<void>;
}

/** New instances of a deployment that may fail before one has ever been healthy: then it is rolled back. */
export const FAILURES_BEFORE_ROLLBACK = 3;

const DEADLINE_CHECK_MS = 1000;

export class AppsRuntime {
  readonly tracker: InstanceTracker;
  readonly backoff = new LaunchBackoff();
  private readonly apps = new Map<string, AppState>();
  private readonly deployments = new Map<string, RunningDeployment>();
  /** Versions read so far, `appId version` → version (they never change). */
  private readonly versions = new Map<string, AppVersion>();
  /** Per app: the reconcile running, and whether another must follow it. */
  private readonly lanes = new Map<string, { running: Promise<void>; again: boolean }>();
  private readonly delayTimers = new Map<string, { handle: TimerHandle; at: number }>();
  /** Apps whose circuit breaker is open (more than half unhealthy), told once per opening. */
  private readonly breakerOpen = new Set<string>();
  /** Instances named to go by a kill with scale (`/v2/tasks/delete?scale=true`), by app: killed first. */
  private readonly sentenced = new Map<string, Set<string>>();
  /** Since when each instance has been unhealthy (epoch ms), by task id. */
  private readonly unhealthySince = new Map<string, number>();
  /** Why an app's launch could not be made (the pool refused it), for /v2/queue. */
  readonly launchErrors = new Map<string, string>();
  /** Told the id of an app whose definition or instances changed (service discovery follows them). */
  private readonly watchers = new Set<(appId: string) => void>();
  private deadlineTimer: TimerHandle | undefined;
  private stopped = false;
  /** Until the tracker holds every instance, no app reconciles: it would launch what already runs. */
  private listed = false;

  constructor(private readonly options: AppsRuntimeOptions) {
    this.tracker = new InstanceTracker(options.cluster, (appId, instance, ended) => this.instanceChanged(appId, instance, ended));
  }

  async start(): Promise<void> {
    const { store } = this.options;
    const records = new Map((await store.listApps()).map((r) => [r.id, r]));
    for (const current of await store.currentVersions()) {
      const record = records.get(current.appId);
      if (record) this.setApp({ record, current });
    }
    for (const record of await store.listDeployments(['running'])) this.addDeployment(record as DeploymentRecord<DeploymentPlan>);
    await this.tracker.start();
    this.listed = true;
    // Every app, and every app the pool still runs instances of (a removed app's are killed).
    for (const appId of new Set([...this.apps.keys(), ...this.tracker.appIds()])) this.schedule(appId);
    this.deadlineTimer = this.options.timers.setInterval(() => void this.checkDeadlines(), DEADLINE_CHECK_MS);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.tracker.stop();
    if (this.deadlineTimer) this.options.timers.clearInterval(this.deadlineTimer);
    for (const timer of this.delayTimers.values()) this.options.timers.clearTimeout(timer.handle);
    await Promise.all([...this.lanes.values()].map((lane) => lane.running));
  }

  app(appId: string): AppState | undefined {
    return this.apps.get(appId);
  }

  allApps(): AppState[] {
    return [...this.apps.values()].sort((a, b) => (a.record.id < b.record.id ? -1 : 1));
  }

  runningDeployments(): RunningDeployment[] {
    return [...this.deployments.values()];
  }

  deploymentOf(appId: string): RunningDeployment | undefined {
    for (const deployment of this.deployments.values()) if (deployment.record.affectedApps.includes(appId)) return deployment;
    return undefined;
  }

  /** The app's row and current version changed (a write of the service): reconcile it. */
  setApp(state: AppState): void {
    this.apps.set(state.record.id, state);
    this.versions.set(`${state.record.id} ${state.current.version}`, state.current);
    this.schedule(state.record.id);
    this.tell(state.record.id);
  }

  /** The app was removed: its instances are killed. */
  removeApp(appId: string): void {
    this.apps.delete(appId);
    this.backoff.forget(appId);
    this.schedule(appId);
    this.tell(appId);
  }

  /** Calls `listener` with an app's id each time its definition, one of its instances, or its deployment's state changes. */
  watchApps(listener: (appId: string) => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  /** The definition an instance was launched with, when it is held (the current one's, else null). */
  definitionOf(instance: TrackedInstance): AppDefinition | null {
    return this.versions.get(`${instance.appId} ${instance.version}`)?.definition ?? null;
  }

  private tell(appId: string): void {
    for (const watcher of this.watchers) {
      try {
        watcher(appId);
      } catch (err) {
        this.options.logger.error({ app: appId, err: (err as Error).message }, 'an app watcher failed');
      }
    }
  }

  addDeployment(record: DeploymentRecord<DeploymentPlan>): void {
    this.deployments.set(record.id, { record, startedAt: this.now(), best: new Map(), lastProgressAt: null, failedNew: new Map(), settled: new Set() });
    this.options.events.publish('deployment_info', { plan: this.planView(record), currentStep: this.stepView(record, record.currentStep) });
    for (const appId of record.affectedApps) this.schedule(appId);
  }

  /** These instances go first when the app next scales down (a kill with scale: the count drops by them). */
  sentence(appId: string, taskIds: readonly string[]): void {
    const set = this.sentenced.get(appId) ?? new Set<string>();
    for (const id of taskIds) set.add(id);
    this.sentenced.set(appId, set);
  }

  /** Forgets the instances sentenced by a kill with scale that was refused. */
  pardon(appId: string, taskIds: readonly string[]): void {
    const set = this.sentenced.get(appId);
    for (const id of taskIds) set?.delete(id);
  }

  /** The deployment ended (superseded, canceled, failed, succeeded): it gates its apps no more. */
  endDeployment(id: string): void {
    const deployment = this.deployments.get(id);
    this.deployments.delete(id);
    for (const appId of deployment?.record.affectedApps ?? []) {
      this.schedule(appId);
      this.tell(appId);
    }
  }

  /** Runs the app's reconcile soon; calls made while one runs are folded into one more. */
  schedule(appId: string): void {
    if (this.stopped || !this.listed) return; // start() schedules every app once listed
    const lane = this.lanes.get(appId);
    if (lane) {
      lane.again = true;
      return;
    }
    const next = { running: Promise.resolve(), again: false };
    this.lanes.set(appId, next);
    // Started on the next microtask: a change that sets several apps and their deployment in one go
    // (AppsService.writeChange) is whole before any of them reconciles.
    next.running = Promise.resolve().then(async () => {
      do {
        next.again = false;
        try {
          await this.reconcile(appId);
        } catch (err) {
          this.options.logger.error({ app: appId, err: (err as Error).message }, 'app reconcile failed');
        }
      } while (next.again && !this.stopped);
      this.lanes.delete(appId);
    });
  }

  /** Settles once every reconcile scheduled so far has run (tests, and the service before it answers). */
  async idle(): Promise<void> {
    while (this.lanes.size > 0) await Promise.all([...this.lanes.values()].map((lane) => lane.running));
  }

  private instanceChanged(appId: string, instance: TrackedInstance, ended: boolean): void {
    const { task } = instance;
    if (!ended && task.health === 'unhealthy') {
      if (!this.unhealthySince.has(task.id)) this.unhealthySince.set(task.id, this.now());
    } else this.unhealthySince.delete(task.id);
    this.options.events.taskStatus(appId, instance.version, task);
    if (!ended && task.health !== null) this.options.events.healthChanged(appId, instance.version, task);
    const state = this.apps.get(appId);
    if (state && ended && !task.killRequested && task.state !== 'lost') {
      // Ended on its own (exited, crashed, OOM): the app's next launch waits.
      const ranMs = task.startedAt ? Date.parse(task.finishedAt ?? task.startedAt) - Date.parse(task.startedAt) : 0;
      const delay = this.backoff.failed(appId, state.current.definition, this.now(), ranMs);
      this.options.logger.info({ app: appId, task: task.id, delayMs: delay.delayMs }, `app instance ended (${task.reason ?? task.state}): next launch in ${Math.round(delay.delayMs / 100) / 10} s`);
      const deployment = this.deploymentOf(appId);
      if (deployment && this.isCurrent(state, instance)) deployment.failedNew.set(appId, (deployment.failedNew.get(appId) ?? 0) + 1);
    }
    this.schedule(appId);
    this.tell(appId);
  }

  private isCurrent(state: AppState, instance: TrackedInstance): boolean {
    const version = this.versions.get(`${state.record.id} ${instance.version}`);
    return instance.version === state.current.version || version?.lastConfigChangeAt === state.current.lastConfigChangeAt;
  }

  private async versionOf(appId: string, version: string): Promise<AppVersion | null> {
    const key = `${appId} ${version}`;
    const held = this.versions.get(key);
    if (held) return held;
    const read = await this.options.store.getVersion(appId, version);
    if (read) this.versions.set(key, read);
    return read;
  }

  private async reconcile(appId: string): Promise<void> {
    const state = this.apps.get(appId);
    const instances = this.tracker.instancesOf(appId);
    const deployment = this.deploymentOf(appId);
    if (deployment && this.actionOf(deployment, appId) === 'later') return; // its step has not come yet
    if (!state) {
      await this.kill(instances.filter((i) => !i.task.killRequested), 'the app was removed');
      await this.stepProgress(appId, instances.length === 0, null);
      return;
    }
    const definition = state.current.definition;
    const current: Array<TrackedInstance & { view: InstanceView }> = [];
    const old: Array<TrackedInstance & { view: InstanceView }> = [];
    for (const instance of instances) {
      const version = (await this.versionOf(appId, instance.version))?.definition ?? definition;
      const view = viewOf(instance.task, version);
      (this.isCurrent(state, instance) ? current : old).push({ ...instance, view });
    }
    const live = new Set(instances.map((i) => i.task.id));
    const sentenced = [...(this.sentenced.get(appId) ?? [])].filter((id) => live.has(id));
    if (sentenced.length > 0) this.sentenced.set(appId, new Set(sentenced));
    else this.sentenced.delete(appId);
    const decision =
      old.length > 0
        ? nextReplacementStep({ target: definition.instances, upgradeStrategy: definition.upgradeStrategy, killSelection: definition.killSelection, oldInstances: old.map((i) => i.view), newInstances: current.map((i) => i.view) })
        : nextScalingStep({ target: definition.instances, killSelection: definition.killSelection, instances: current.map((i) => i.view), sentenced });
    const byTask = new Map(instances.map((i) => [i.task.id, i]));
    const kills = decision.kill.map((id) => byTask.get(id)!).filter(Boolean);
    const unhealthy = this.unhealthyToKill(state, current, kills);
    await this.kill(kills, old.length > 0 ? `replaced by version ${state.current.version}` : 'scaled down');
    await this.kill(unhealthy, 'failed its health check');
    const starts = decision.start + unhealthy.length;
    if (starts > 0) await this.launch(state, starts);
    if (deployment) await this.stepProgress(appId, decision.done && unhealthy.length === 0, decision.progress);
    if (decision.done && old.length === 0 && definition.instances > 0 && current.every((i) => i.view.available) && state.record.lastHealthyVersion !== state.current.version) {
      await this.options.store.markHealthy(appId, state.current.version);
      state.record = { ...state.record, lastHealthyVersion: state.current.version };
    }
  }

  /**
   * The current instances to kill for failing their health checks, unless the circuit breaker is open.
   * An instance is killed once it has been unhealthy for one check round (interval + timeout): a checker
   * that fails for every instance turns them unhealthy one by one within a round, and the first ones would
   * otherwise be killed before the breaker saw more than half of them go.
   */
  private unhealthyToKill(state: AppState, current: ReadonlyArray<TrackedInstance & { view: InstanceView }>, killing: readonly TrackedInstance[]): TrackedInstance[] {
    const check = state.current.definition.healthChecks[0];
    if (!check || check.maxConsecutiveFailures === 0) return []; // Marathon: 0 never kills
    const going = new Set(killing.map((i) => i.task.id));
    const running = current.filter((i) => i.task.state === 'running' && !i.task.killRequested && !going.has(i.task.id));
    const unhealthyNow = running.filter((i) => i.task.health === 'unhealthy');
    const appId = state.record.id;
    const settleMs = (check.intervalSeconds + check.timeoutSeconds) * 1000; // one check round, at its slowest
    const now = this.now();
    const unhealthy = unhealthyNow.filter((i) => now - (this.unhealthySince.get(i.task.id) ?? now) >= settleMs);
    const settling = unhealthyNow.filter((i) => !unhealthy.includes(i));
    if (settling.length > 0) {
      const due = Math.min(...settling.map((i) => (this.unhealthySince.get(i.task.id) ?? now) + settleMs));
      this.wakeAfter(appId, Math.max(1, due - now));
    }
    if (unhealthyNow.length > 0 && running.length >= 2 && unhealthyNow.length * 2 > running.length) {
      if (!this.breakerOpen.has(appId)) {
        this.breakerOpen.add(appId);
        this.options.logger.warn({ app: appId, unhealthy: unhealthyNow.length, running: running.length }, 'more than half of the app\'s instances failed their health checks at once: the checks are suspected, none is killed');
        this.options.events.publish('unhealthy_instances_spared_event', { appId, unhealthy: unhealthyNow.length, running: running.length, message: 'more than half of the instances failed their health checks at once: none is killed' });
      }
      return [];
    }
    if (this.breakerOpen.delete(appId)) {
      // The breaker closes as the checker recovers, and instances turn healthy one by one within a round
      // as they went: the ones still failing get a fresh round, or the last to recover dies.
      for (const instance of unhealthyNow) this.unhealthySince.set(instance.task.id, now);
      if (unhealthyNow.length > 0) this.wakeAfter(appId, settleMs);
      return [];
    }
    const deployment = this.deploymentOf(appId);
    for (const instance of unhealthy) {
      // A failure like a crash: the next launch backs off, and a deployment counts it against its new version.
      this.backoff.failed(appId, state.current.definition, this.now());
      if (deployment) deployment.failedNew.set(appId, (deployment.failedNew.get(appId) ?? 0) + 1);
      this.options.events.publish('unhealthy_instance_kill_event', { appId, taskId: instance.task.id, instanceId: instance.task.id, version: instance.version, reason: instance.task.probeMessage ?? 'failed its health check', host: instance.task.allocation?.host ?? '', slaveId: instance.task.agentId ?? '' });
    }
    return unhealthy;
  }

  private async kill(instances: readonly TrackedInstance[], reason: string): Promise<void> {
    for (const instance of instances) {
      await this.options.cluster.kill(instance.task.id, reason).catch((err: Error) => {
        this.options.logger.warn({ task: instance.task.id, err: err.message }, 'could not kill an app instance');
      });
    }
  }

  /** Launches `count` instances of the app's current version, when its launch delay allows. */
  private async launch(state: AppState, count: number): Promise<void> {
    const appId = state.record.id;
    const waitMs = this.backoff.waitMs(appId, this.now());
    if (waitMs > 0) return this.wakeAfter(appId, waitMs);
    // All at once: the pool stores submissions of the same turn in one statement and places them in one
    // round (one after the other, 1,000 instances took 40 s to submit).
    const submitted = await Promise.allSettled(
      Array.from({ length: count }, () => {
        const { owner, submission } = taskForInstance(state.current.definition, { instanceId: newInstanceId(), version: state.current.version, shutdownDelayMs: this.options.drainDelayMs });
        return this.options.cluster.submit(owner, submission);
      }),
    );
    for (const result of submitted) if (result.status === 'fulfilled') this.tracker.add(result.value);
    const refused = submitted.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (!refused) {
      this.launchErrors.delete(appId);
      return;
    }
    const message = (refused.reason as Error).message;
    this.launchErrors.set(appId, message);
    this.options.logger.warn({ app: appId, err: message, refused: submitted.filter((r) => r.status === 'rejected').length }, 'the pool refused app instances');
    const delay = this.backoff.failed(appId, state.current.definition, this.now());
    this.wakeAfter(appId, delay.delayMs);
  }

  /** Reconciles the app again in `ms`, or sooner if a wake-up is already set for sooner. */
  private wakeAfter(appId: string, ms: number): void {
    const at = this.now() + ms;
    const set = this.delayTimers.get(appId);
    if (set && set.at <= at) return;
    if (set) this.options.timers.clearTimeout(set.handle);
    const handle = this.options.timers.setTimeout(() => {
      this.delayTimers.delete(appId);
      this.schedule(appId);
    }, ms);
    this.delayTimers.set(appId, { handle, at });
  }

  /** Where the app stands in its deployment: in the current step, a later one, or an earlier (done) one. */
  private actionOf(deployment: RunningDeployment, appId: string): 'now' | 'later' | 'done' {
    const steps = deployment.record.plan.steps;
    const at = steps.findIndex((step) => step.actions.some((a) => a.appId === appId));
    if (at === -1 || at < deployment.record.currentStep) return 'done';
    return at === deployment.record.currentStep ? 'now' : 'later';
  }

  /** After an app of a running deployment reconciled: its progress, its step's end, the deployment's. */
  private async stepProgress(appId: string, converged: boolean, progress: DeploymentProgress | null): Promise<void> {
    const deployment = this.deploymentOf(appId);
    if (!deployment || this.actionOf(deployment, appId) !== 'now') return;
    if (progress) {
      const { best, progressed } = recordProgress(deployment.best.get(appId) ?? null, progress);
      deployment.best.set(appId, best);
      if (progressed) deployment.lastProgressAt = this.now();
    }
    const failed = deployment.failedNew.get(appId) ?? 0;
    if (failed >= FAILURES_BEFORE_ROLLBACK && (deployment.best.get(appId)?.available ?? 0) === 0) {
      return this.fail(deployment, `${failed} new instances of ${appId} failed and none became healthy`);
    }
    if (converged) deployment.settled.add(appId);
    else deployment.settled.delete(appId);
    const step = deployment.record.plan.steps[deployment.record.currentStep];
    if (!step || !step.actions.every((a) => deployment.settled.has(a.appId))) return;
    const record = deployment.record;
    const next = record.currentStep + 1;
    this.options.events.publish('deployment_step_success', { plan: this.planView(record), currentStep: this.stepView(record, record.currentStep) });
    if (next < record.plan.steps.length) {
      if (!(await this.options.store.updateDeployment(record.id, { currentStep: next }))) return this.endDeployment(record.id);
      deployment.record = { ...record, currentStep: next };
      deployment.settled.clear();
      this.options.events.publish('deployment_info', { plan: this.planView(deployment.record), currentStep: this.stepView(deployment.record, next) });
      for (const action of deployment.record.plan.steps[next]!.actions) this.schedule(action.appId);
      return;
    }
    await this.options.store.updateDeployment(record.id, { currentStep: next, state: 'succeeded', finishedAt: this.nowIso() });
    this.deployments.delete(record.id);
    this.options.logger.info({ deployment: record.id, apps: record.affectedApps }, 'deployment succeeded');
    this.options.events.publish('deployment_success', { id: record.id, plan: this.planView(record) });
    // Watchers waiting for the app to be deployed (a blue-green switch) look again.
    for (const appId of record.affectedApps) this.tell(appId);
  }

  private async fail(deployment: RunningDeployment, reason: string): Promise<void> {
    if (!this.deployments.has(deployment.record.id)) return;
    this.deployments.delete(deployment.record.id);
    for (const appId of deployment.record.affectedApps) this.tell(appId);
    this.options.logger.warn({ deployment: deployment.record.id, reason }, 'deployment failed');
    this.options.events.publish('deployment_failed', { id: deployment.record.id, plan: this.planView(deployment.record), reason });
    await this.options.onDeploymentFailed(deployment, reason);
  }

  private async checkDeadlines(): Promise<void> {
    const now = this.now();
    for (const deployment of [...this.deployments.values()]) {
      const verdict = checkProgressDeadline({ startedAt: deployment.startedAt, deadlineSeconds: this.options.progressDeadlineSeconds, lastProgressAt: deployment.lastProgressAt, now });
      if (verdict.expired) await this.fail(deployment, verdict.reason).catch((err: Error) => this.options.logger.error({ deployment: deployment.record.id, err: err.message }, 'rollback failed'));
    }
  }

  /** A deployment as Marathon shows it in /v2/deployments and its events. */
  planView(record: DeploymentRecord<DeploymentPlan>): Record<string, unknown> {
    return {
      id: record.id,
      version: record.createdAt,
      affectedApps: record.affectedApps,
      steps: record.plan.steps.map((step) => ({ actions: step.actions.map(actionView) })),
    };
  }

  stepView(record: DeploymentRecord<DeploymentPlan>, index: number): Record<string, unknown> {
    return { actions: (record.plan.steps[index]?.actions ?? []).map(actionView) };
  }

  private now(): number {
    return this.options.clock.now().getTime();
  }

  private nowIso(): string {
    return this.options.clock.now().toISOString();
  }
}

function actionView(action: DeploymentAction): { action: string; app: string } {
  return { action: marathonActionName(action), app: action.appId };
}

function healthOf(task: TaskRecord): boolean | null {
  return task.health === null ? null : task.health === 'healthy';
}

/** A task as the deployment arithmetic sees an instance. */
function viewOf(task: TaskRecord, definition: AppDefinition): InstanceView {
  const phase = task.state === 'running' ? 'running' : 'staging';
  return {
    id: task.id,
    phase,
    available: isAvailable({ phase, healthy: healthOf(task), ready: task.ready }, checksOf(definition)),
    killing: task.killRequested,
    since: Date.parse(task.startedAt ?? task.createdAt),
  };
}
