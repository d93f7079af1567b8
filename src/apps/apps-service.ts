// Long-running apps, as the API and the CLI drive them (Marathon's /v2/apps, /v2/deployments, /v2/queue
// and the same model under /api/v1/apps). Every change of an app is a new immutable version written
// with the deployment that rolls it out (store/app-store.ts), then handed to the runtime that carries it
// out on the pool (runtime/apps-runtime.ts). One deployment per app at a time: a change while one runs
// answers 409 naming it, unless forced (the running one is then superseded where it stands).
//
// Beyond Marathon: a deployment that makes no progress within its deadline, or whose new instances keep
// failing, is rolled back to the app's last version that was ever fully healthy (a new version with that
// definition, so the old instances still running count as current and are kept), and marked failed
// with the reason. Canceling a deployment rolls it back the same way; forced, it stops where it is.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { ClusterClient, TaskRecord } from '../cluster/index.ts';
import { systemClock, type Clock } from '../shared/clock.ts';
import { Conflict, NotFound } from '../shared/errors.ts';
import { systemTimers, type Timers } from '../shared/timers.ts';
import { AppDefinitionInvalid, parseAppDefinition, type AppDefinition, type AppSource } from './definition/index.ts';
import { appChange, planDeployment, type DeploymentPlan } from './deployments/index.ts';
import { instanceOwner } from './instances/owner.ts';
import { poolGaps } from './instances/pool-gaps.ts';
import { submissionFor } from './instances/to-task.ts';
import { AppsRuntime, type AppState, type RunningDeployment } from './runtime/apps-runtime.ts';
import type { TaskFailure } from './runtime/instance-tracker.ts';
import { AppEvents } from './runtime/marathon-events.ts';
import { AppStore, type DeploymentRecord } from './store/app-store.ts';

export interface AppsServiceOptions {
  knex: Knex;
  cluster: ClusterClient;
  logger: Logger;
  clock?: Clock;
  timers?: Timers;
  /** A deployment with no progress for this long is rolled back (default 10 minutes). */
  progressDeadlineSeconds?: number;
}

export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;

/** What a change answers (Marathon: `{deploymentId, version}`). */
export interface ChangeResult {
  deploymentId: string;
  version: string;
}

export interface ChangeOptions {
  /** Supersede a running deployment of the app instead of answering 409. */
  force?: boolean;
}

/** An app as GET shows it: its definition, version, instance counts, deployments, and its tasks on request. */
export interface AppView {
  definition: AppDefinition;
  version: string;
  lastConfigChangeAt: string;
  lastHealthyVersion: string | null;
  counts: { staged: number; running: number; healthy: number; unhealthy: number };
  deployments: string[];
  tasks: TaskRecord[];
  lastTaskFailure: TaskFailure | null;
}

export interface DeploymentView {
  record: DeploymentRecord<DeploymentPlan>;
  plan: Record<string, unknown>;
  currentStep: Record<string, unknown>;
}

/** An app waiting to launch instances: how many, the delay, and why the pool cannot place them. */
export interface QueueItem {
  appId: string;
  count: number;
  delayMs: number;
  /** Epoch ms the delay ends. */
  delayUntil: number | null;
  waitingReasons: string[];
  lastLaunchError: string | null;
}

export class AppsService {
  readonly events: AppEvents;
  private readonly store: AppStore;
  private readonly runtime: AppsRuntime;
  private readonly clock: Clock;

  constructor(private readonly options: AppsServiceOptions) {
    this.clock = options.clock ?? systemClock;
    this.store = new AppStore(options.knex);
    this.events = new AppEvents(() => this.clock.now());
    this.runtime = new AppsRuntime({
      store: this.store,
      cluster: options.cluster,
      events: this.events,
      clock: this.clock,
      timers: options.timers ?? systemTimers,
      logger: options.logger,
      progressDeadlineSeconds: options.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS,
      onDeploymentFailed: async (deployment, reason) => {
        await this.rollBack(deployment, reason);
      },
    });
  }

  start(): Promise<void> {
    return this.runtime.start();
  }

  stop(): Promise<void> {
    return this.runtime.stop();
  }

  /** Settles once the runtime has acted on every change so far (tests). */
  idle(): Promise<void> {
    return this.runtime.idle();
  }

  // Queries

  /** Apps by id, those under `idPrefix` (a group, `/prod/`), with a label (`key` or `key==value`). */
  listApps(filter: { idPrefix?: string; label?: string } = {}): AppView[] {
    return this.runtime
      .allApps()
      .filter((state) => filter.idPrefix === undefined || state.record.id.startsWith(filter.idPrefix))
      .filter((state) => filter.label === undefined || hasLabel(state.current.definition, filter.label))
      .map((state) => this.view(state));
  }

  getApp(id: string): AppView {
    return this.view(this.stateOf(id));
  }

  tasks(id: string): TaskRecord[] {
    this.stateOf(id);
    return this.runtime.tracker.instancesOf(id).map((i) => i.task);
  }

  async versions(id: string): Promise<string[]> {
    this.stateOf(id);
    return this.store.listVersions(id);
  }

  /** One version's definition and source. */
  async version(id: string, version: string): Promise<{ definition: AppDefinition; source: AppSource; version: string; lastConfigChangeAt: string }> {
    this.stateOf(id);
    const found = await this.store.getVersion(id, version);
    if (!found) throw new NotFound(`app ${id} has no version ${version}`);
    return found;
  }

  deployments(): DeploymentView[] {
    return this.runtime.runningDeployments().map(({ record }) => ({ record, plan: this.runtime.planView(record), currentStep: this.runtime.stepView(record, record.currentStep) }));
  }

  queue(): QueueItem[] {
    const now = this.clock.now().getTime();
    const items: QueueItem[] = [];
    for (const state of this.runtime.allApps()) {
      const appId = state.record.id;
      const instances = this.runtime.tracker.instancesOf(appId);
      const waiting = instances.filter((i) => i.task.state === 'queued');
      const missing = Math.max(0, state.current.definition.instances - instances.length);
      const delay = this.runtime.backoff.delayOf(appId);
      const error = this.runtime.launchErrors.get(appId) ?? null;
      if (waiting.length + missing === 0 && error === null) continue;
      items.push({
        appId,
        count: waiting.length + missing,
        delayMs: delay ? Math.max(0, delay.until - now) : 0,
        delayUntil: delay?.until ?? null,
        waitingReasons: [...new Set(waiting.flatMap((i) => (i.task.waitingReason ? [i.task.waitingReason] : [])))],
        lastLaunchError: error,
      });
    }
    return items;
  }

  // Changes

  /** Creates an app (409 when it exists). */
  async createApp(json: unknown, options: ChangeOptions = {}): Promise<ChangeResult & { app: AppView }> {
    const definition = parseAppDefinition(json);
    if (this.runtime.app(definition.id)) throw new Conflict(`an app with id ${definition.id} already exists`);
    const result = await this.write(definition, { ...options, expected: null });
    return { ...result, app: this.getApp(definition.id) };
  }

  /**
   * Creates or replaces an app (PUT /v2/apps/ID). `partial`: the fields given are laid over the app's
   * current definition (Marathon's PATCH, and PUT with ?partialUpdate=true).
   */
  async putApp(id: string, json: unknown, options: ChangeOptions & { partial?: boolean } = {}): Promise<ChangeResult & { created: boolean }> {
    const state = this.runtime.app(id);
    const body = { ...(options.partial && state ? state.current.source : {}), ...(json as Record<string, unknown>), id };
    const definition = parseAppDefinition(body);
    const result = await this.write(definition, { ...options, expected: state?.current.version ?? null });
    return { ...result, created: state === undefined };
  }

  async scaleApp(id: string, instances: number, options: ChangeOptions = {}): Promise<ChangeResult> {
    const state = this.stateOf(id);
    return this.putApp(id, { ...state.current.source, instances }, options);
  }

  /** A rolling restart of every instance (a new version with the same definition). */
  async restartApp(id: string, options: ChangeOptions = {}): Promise<ChangeResult> {
    const state = this.stateOf(id);
    return this.write(parseAppDefinition(state.current.source), { ...options, expected: state.current.version, restart: true });
  }

  /** Back to an earlier version (its definition as a new version), or to the last healthy one. */
  async rollbackApp(id: string, toVersion?: string, options: ChangeOptions = {}): Promise<ChangeResult> {
    const state = this.stateOf(id);
    const target = toVersion ?? state.record.lastHealthyVersion;
    if (!target) throw new Conflict(`app ${id} has no version that was ever fully healthy: name the version to roll back to`);
    const found = await this.store.getVersion(id, target);
    if (!found) throw new NotFound(`app ${id} has no version ${target}`);
    return this.write(found.definition, { ...options, expected: state.current.version, source: found.source, lastConfigChangeAt: found.lastConfigChangeAt });
  }

  async deleteApp(id: string, options: ChangeOptions = {}): Promise<ChangeResult> {
    const state = this.stateOf(id);
    const running = this.lockedBy(id, options);
    const plan = planDeployment([state.current.definition], []);
    const deployment = this.newDeployment(plan, [id]);
    await this.store.deleteApp(id, deployment, running ? [running.record.id] : []);
    if (running) this.runtime.endDeployment(running.record.id);
    this.runtime.removeApp(id);
    this.runtime.addDeployment(deployment);
    this.events.publish('app_terminated_event', { appId: id });
    return { deploymentId: deployment.id, version: deployment.createdAt };
  }

  /**
   * Cancels a deployment: rolled back to what its apps were before (a new deployment); `force` stops it
   * where it stands, its apps left at their new versions.
   */
  async cancelDeployment(id: string, options: ChangeOptions = {}): Promise<ChangeResult | null> {
    const deployment = this.runtime.runningDeployments().find((d) => d.record.id === id);
    if (!deployment) throw new NotFound(`no running deployment ${id}`);
    if (options.force) {
      await this.store.updateDeployment(id, { state: 'canceled', reason: 'canceled (forced): stopped where it stood', finishedAt: this.now() });
      this.runtime.endDeployment(id);
      return null;
    }
    return this.rollBack(deployment, 'canceled');
  }

  // Internals

  private stateOf(id: string): AppState {
    const state = this.runtime.app(id);
    if (!state) throw new NotFound(`app ${id} does not exist`);
    return state;
  }

  private lockedBy(appId: string, options: ChangeOptions): RunningDeployment | undefined {
    const running = this.runtime.deploymentOf(appId);
    if (running && !options.force) {
      throw new Conflict(`App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/${running.record.id}'.`, {
        deployments: [{ id: running.record.id }],
      });
    }
    return running;
  }

  /** Writes a new version of one app with the deployment that rolls it out, then hands both to the runtime. */
  private async write(
    definition: AppDefinition,
    options: ChangeOptions & { expected: string | null; restart?: boolean; source?: AppSource; lastConfigChangeAt?: string; rollbackOf?: string; reason?: string },
  ): Promise<ChangeResult> {
    const appId = definition.id;
    this.checkRunnable(definition);
    const state = this.runtime.app(appId);
    const running = this.lockedBy(appId, options);
    const plan = planDeployment(state ? [state.current.definition] : [], [definition], { restart: options.restart ? [appId] : [] });
    const version = this.nextVersion(state?.current.version);
    const change = appChange(state?.current.definition, definition, { restart: options.restart === true });
    const lastConfigChangeAt = options.lastConfigChangeAt ?? (change === 'scale' || change === 'none' ? state!.current.lastConfigChangeAt : version);
    const deployment = this.newDeployment(plan, [appId], options.rollbackOf);
    const source = options.source ?? definition.source;
    await this.store.writeChange([{ appId, definition, source, version, lastConfigChangeAt, expected: options.expected }], deployment, version, running ? [running.record.id] : []);
    if (running) this.runtime.endDeployment(running.record.id);
    const record = state?.record ?? { id: appId, version, lastHealthyVersion: null, createdAt: version, updatedAt: version };
    this.runtime.setApp({ record: { ...record, version, updatedAt: version }, current: { appId, version, definition, source, lastConfigChangeAt, createdAt: version } });
    if (deployment.state === 'running') this.runtime.addDeployment(deployment);
    this.events.publish('api_post_event', { appDefinition: { ...source, id: appId, version } });
    return { deploymentId: deployment.id, version };
  }

  /** Refuses (422) what the pool cannot run or place, before anything is written. */
  private checkRunnable(definition: AppDefinition): void {
    const gaps = poolGaps(definition);
    if (gaps.length > 0) throw new AppDefinitionInvalid(`app "${definition.id}"`, gaps);
    const probe = { instanceId: 'check' };
    this.options.cluster.check(instanceOwner(definition.id, probe.instanceId), submissionFor(definition, probe).submission);
  }

  private newDeployment(plan: DeploymentPlan, apps: string[], rollbackOf?: string): DeploymentRecord<DeploymentPlan> {
    const now = this.now();
    const empty = plan.steps.length === 0;
    return {
      id: randomUUID(),
      affectedApps: plan.affectedAppIds.length > 0 ? plan.affectedAppIds : apps,
      plan,
      currentStep: 0,
      state: empty ? 'succeeded' : 'running',
      reason: null,
      rollbackOf: rollbackOf ?? null,
      createdAt: now,
      deadlineAt: null,
      finishedAt: empty ? now : null,
    };
  }

  /**
   * A failed or canceled deployment goes back: each app it changed to its last fully healthy version
   * (a new version with that definition and its configuration time, so its instances still running are
   * kept), in one new deployment; marked failed (or canceled) with the reason. An app with no healthy
   * version to go back to is left where it is, and the reason says so.
   */
  private async rollBack(deployment: RunningDeployment, reason: string): Promise<ChangeResult | null> {
    const { record } = deployment;
    const canceled = reason === 'canceled';
    const appId = record.affectedApps[0]!;
    const state = this.runtime.app(appId);
    const target = state?.record.lastHealthyVersion;
    const found = target && target !== state?.current.version ? await this.store.getVersion(appId, target) : null;
    if (!state || !found) {
      const why = `${reason}; no earlier version of ${appId} was ever fully healthy: left as it is`;
      await this.store.updateDeployment(record.id, { state: canceled ? 'canceled' : 'failed', reason: why, finishedAt: this.now() });
      this.runtime.endDeployment(record.id);
      this.options.logger.warn({ deployment: record.id, app: appId }, why);
      return null;
    }
    await this.store.updateDeployment(record.id, { state: canceled ? 'canceled' : 'failed', reason: `${reason}: rolled back to version ${target}`, finishedAt: this.now() });
    this.runtime.endDeployment(record.id);
    this.options.logger.warn({ deployment: record.id, app: appId, to: target }, `deployment ${canceled ? 'canceled' : 'failed'} (${reason}): rolling back`);
    return this.write(found.definition, { expected: state.current.version, force: true, source: found.source, lastConfigChangeAt: found.lastConfigChangeAt, rollbackOf: record.id });
  }

  private view(state: AppState): AppView {
    const instances = this.runtime.tracker.instancesOf(state.record.id);
    const tasks = instances.map((i) => i.task);
    const deployment = this.runtime.deploymentOf(state.record.id);
    return {
      definition: state.current.definition,
      version: state.current.version,
      lastConfigChangeAt: state.current.lastConfigChangeAt,
      lastHealthyVersion: state.record.lastHealthyVersion,
      counts: {
        staged: tasks.filter((t) => t.state !== 'running').length,
        running: tasks.filter((t) => t.state === 'running').length,
        healthy: tasks.filter((t) => t.health === 'healthy').length,
        unhealthy: tasks.filter((t) => t.health === 'unhealthy').length,
      },
      deployments: deployment ? [deployment.record.id] : [],
      tasks,
      lastTaskFailure: this.runtime.tracker.lastFailure(state.record.id),
    };
  }

  /** A version later than the app's current one (ISO time; one millisecond on when the clock has not moved). */
  private nextVersion(current: string | undefined): string {
    const now = this.clock.now().getTime();
    const after = current ? Date.parse(current) + 1 : now;
    return new Date(Math.max(now, after)).toISOString();
  }

  private now(): string {
    return this.clock.now().toISOString();
  }
}

/** Marathon's label selector, the simple forms: `key` (present) or `key==value`. */
function hasLabel(definition: AppDefinition, selector: string): boolean {
  const [key, value] = selector.split('==').map((s) => s.trim());
  if (!key) return true;
  const have = definition.labels[key];
  return value === undefined ? have !== undefined : have === value;
}
