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
import { AppDefinitionInvalid, parseAppDefinition, parseGroupDefinition, type AppDefinition, type AppSource, type GroupDefinition } from './definition/index.ts';
import { appChange, planDeployment, type DeploymentPlan } from './deployments/index.ts';
import { instanceOwner } from './instances/owner.ts';
import { poolGaps } from './instances/pool-gaps.ts';
import { submissionFor } from './instances/to-task.ts';
import { AppEndpointsFeed } from './endpoints/app-endpoints.ts';
import { BlueGreenSwitches, type SwitchHost } from './blue-green/blue-green-switches.ts';
import type { SwitchSettings } from './blue-green/switch-plan.ts';
import { SwitchStore, type SwitchRecord } from './blue-green/switch-store.ts';
import { exposureOf, type ExposureCheck } from './endpoints/exposure.ts';
import { AppsRuntime, type AppState, type RunningDeployment } from './runtime/apps-runtime.ts';
import type { TaskFailure } from './runtime/instance-tracker.ts';
import { AppEvents } from './runtime/marathon-events.ts';
import { AppStore, type AppVersion, type DeploymentRecord } from './store/app-store.ts';

export interface AppsServiceOptions {
  knex: Knex;
  cluster: ClusterClient;
  logger: Logger;
  clock?: Clock;
  timers?: Timers;
  /** A deployment with no progress for this long is rolled back (default 10 minutes). */
  progressDeadlineSeconds?: number;
  /** An instance asked to stop leaves discovery, then gets its SIGTERM this much later (default 0). */
  drainDelayMs?: number;
  /** Service discovery's rules on service ports and virtual hosts (main.ts); none: not checked. */
  exposure?: ExposureCheck;
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
  /** The apps' instances that serve or drain, for service discovery. */
  readonly endpoints: AppEndpointsFeed;
  /** Blue-green and canary switches between two apps of one deployment group. */
  readonly switches: BlueGreenSwitches;

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
      drainDelayMs: options.drainDelayMs ?? 0,
      onDeploymentFailed: async (deployment, reason) => {
        await this.rollBack(deployment, reason);
      },
    });
    this.switches = new BlueGreenSwitches({
      store: new SwitchStore(options.knex),
      host: this.switchHost(),
      clock: this.clock,
      timers: options.timers ?? systemTimers,
      logger: options.logger.child({ part: 'blue-green' }),
    });
    this.endpoints = new AppEndpointsFeed(this.runtime, (appId) => this.switches.shareOf(appId));
  }

  async start(): Promise<void> {
    await this.runtime.start();
    await this.switches.start();
  }

  async stop(): Promise<void> {
    await this.switches.stop();
    await this.runtime.stop();
  }

  /**
   * A blue-green (or canary) deployment: `json` (its id names the group, `/prod/web`) starts as the green
   * of the live app, and traffic moves to it in `settings.steps` (switches.ts). With no live app of the
   * group it is created as usual: `switch` is then null.
   */
  async deployBlueGreen(json: unknown, settings: SwitchSettings): Promise<{ deploymentId: string; switch: SwitchRecord | null }> {
    const definition = parseAppDefinition(json);
    const started = await this.switches.begin(definition.source, definition.id, settings);
    if (started) return { deploymentId: started.deploymentId, switch: started.record };
    const created = await this.createApp(json);
    return { deploymentId: created.deploymentId, switch: null };
  }

  /** What the switches need of the apps. */
  private switchHost(): SwitchHost {
    return {
      exists: (appId) => this.runtime.app(appId) !== undefined,
      readiness: (appId) => {
        const state = this.runtime.app(appId);
        if (!state) return null;
        const up = this.endpoints.get(appId)?.instances.filter((i) => i.state === 'up').length ?? 0;
        return { wanted: state.current.definition.instances, up, deploying: this.runtime.deploymentOf(appId) !== undefined };
      },
      deploymentState: async (id) => (await this.deployment(id))?.state ?? null,
      // Forced: the only deployment a new green's id can have is the removal of an earlier green, still
      // draining its instances; the new app supersedes it (the old instances are killed all the same).
      create: async (json) => this.createApp(json, { force: true }),
      remove: async (appId) => {
        await this.deleteApp(appId, { force: true });
      },
      announce: (appId) => this.endpoints.announce(appId),
      watch: (listener) => this.runtime.watchApps(listener),
    };
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

  /**
   * Kills tasks of apps by id (unknown ones refused before anything is killed). Without `scale` their
   * apps replace them; with it each app's count drops by its tasks killed (a new version, whose
   * deployment kills exactly those).
   */
  async killTasks(taskIds: readonly string[], options: ChangeOptions & { scale?: boolean } = {}): Promise<{ killed: TaskRecord[]; deployment: ChangeResult | null }> {
    const byApp = new Map<string, TaskRecord[]>();
    for (const id of new Set(taskIds)) {
      const instance = this.runtime.tracker.instanceByTask(id);
      if (!instance) throw new NotFound(`task ${id} is not a running instance of any app`);
      byApp.set(instance.appId, [...(byApp.get(instance.appId) ?? []), instance.task]);
    }
    if (!options.scale) {
      const killed: TaskRecord[] = [];
      for (const tasks of byApp.values()) for (const task of tasks) killed.push(await this.options.cluster.kill(task.id, 'killed by request'));
      return { killed, deployment: null };
    }
    let deployment: ChangeResult | null = null;
    for (const [appId, tasks] of byApp) {
      const state = this.stateOf(appId);
      const ids = tasks.map((t) => t.id);
      this.runtime.sentence(appId, ids);
      try {
        deployment = await this.putApp(appId, { ...state.current.source, instances: Math.max(0, state.current.definition.instances - tasks.length) }, options);
      } catch (err) {
        this.runtime.pardon(appId, ids);
        throw err;
      }
    }
    return { killed: [...byApp.values()].flat(), deployment };
  }

  /** A deployment in any state (running ones as the runtime holds them), or null. */
  async deployment(id: string): Promise<DeploymentRecord<DeploymentPlan> | null> {
    const running = this.runtime.runningDeployments().find((d) => d.record.id === id);
    return running?.record ?? ((await this.store.getDeployment(id)) as DeploymentRecord<DeploymentPlan> | null);
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
    return this.writeChange([], [id], [state.current.definition], [], options);
  }

  // Groups (Marathon's /v2/groups): a tree of apps deployed together, in their dependencies' order.

  /** The group's apps (every app under its id), as a tree. */
  getGroup(id: string): { id: string; apps: AppView[]; groups: string[] } {
    const prefix = id === '/' ? '/' : `${id}/`;
    const apps = this.listApps({ idPrefix: prefix });
    if (apps.length === 0 && id !== '/') throw new NotFound(`group ${id} does not exist`);
    const direct = apps.filter((a) => !a.definition.id.slice(prefix.length).includes('/'));
    const groups = [...new Set(apps.map((a) => a.definition.id.slice(prefix.length)).filter((rest) => rest.includes('/')).map((rest) => `${prefix}${rest.split('/')[0]}`))];
    return { id, apps: direct, groups };
  }

  /**
   * Creates or replaces a group: its apps become what the tree says (new and changed ones written, those
   * under the group that the tree no longer has removed), deployed in one plan that starts dependencies
   * first and stops in reverse.
   */
  async putGroup(json: unknown, options: ChangeOptions = {}): Promise<ChangeResult> {
    const existing = this.runtime.allApps();
    const group = parseGroupDefinition(json, { existingApps: existing.map((s) => ({ id: s.record.id, dependencies: s.current.definition.dependencies })) });
    const prefix = group.id === '/' ? '/' : `${group.id}/`;
    const before = existing.filter((s) => s.record.id.startsWith(prefix)).map((s) => s.current.definition);
    const after = appsOfGroup(group);
    const kept = new Set(after.map((a) => a.id));
    const changed = after.filter((app) => appChange(this.runtime.app(app.id)?.current.definition, app) !== 'none');
    const removals = before.filter((app) => !kept.has(app.id)).map((app) => app.id);
    return this.writeChange(changed.map((definition) => ({ definition })), removals, before, group, options);
  }

  /** Removes every app of the group, dependents first. */
  async deleteGroup(id: string, options: ChangeOptions = {}): Promise<ChangeResult> {
    const prefix = id === '/' ? '/' : `${id}/`;
    const before = this.runtime.allApps().filter((s) => s.record.id.startsWith(prefix)).map((s) => s.current.definition);
    if (before.length === 0) throw new NotFound(`group ${id} does not exist`);
    return this.writeChange([], before.map((a) => a.id), before, [], options);
  }

  /**
   * Cancels a deployment: rolled back to what its apps were before (a new deployment); `force` stops it
   * where it stands, its apps left at their new versions.
   */
  async cancelDeployment(id: string, options: ChangeOptions = {}): Promise<ChangeResult | null> {
    const deployment = this.runtime.runningDeployments().find((d) => d.record.id === id);
    if (!deployment) throw new NotFound(`no running deployment ${id}`);
    if (options.force) {
      const reason = 'canceled (forced): stopped where it stood';
      await this.store.updateDeployment(id, { state: 'canceled', reason, finishedAt: this.now() });
      this.ended(deployment, reason);
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
    options: ChangeOptions & { expected: string | null; restart?: boolean; source?: AppSource; lastConfigChangeAt?: string; rollbackOf?: string },
  ): Promise<ChangeResult> {
    const { expected, restart, source, lastConfigChangeAt, ...rest } = options;
    const state = this.runtime.app(definition.id);
    if ((state?.current.version ?? null) !== expected) throw new Conflict(`app ${definition.id} changed meanwhile`);
    return this.writeChange(
      [{ definition, ...(restart ? { restart } : {}), ...(source ? { source } : {}), ...(lastConfigChangeAt ? { lastConfigChangeAt } : {}) }],
      [],
      state ? [state.current.definition] : [],
      [definition],
      rest,
    );
  }

  /**
   * One change of any number of apps (an app, a group, a rollback): their new versions, the apps it
   * removes, and the deployment that carries it out (planned from `before` to `after`, which may be a
   * group tree so that its dependencies order the steps), written at once; 409 when a deployment of any
   * of them runs, unless forced (those are superseded).
   */
  private async writeChange(
    changes: ReadonlyArray<{ definition: AppDefinition; restart?: boolean; source?: AppSource; lastConfigChangeAt?: string }>,
    removals: readonly string[],
    before: readonly AppDefinition[],
    after: readonly AppDefinition[] | GroupDefinition,
    options: ChangeOptions & { rollbackOf?: string },
  ): Promise<ChangeResult> {
    for (const change of changes) this.checkRunnable(change.definition);
    this.checkExposure(changes.map((c) => c.definition), removals);
    const touched = [...changes.map((c) => c.definition.id), ...removals];
    const running = [...new Set(touched.flatMap((id) => (this.lockedBy(id, options) ? [this.runtime.deploymentOf(id)!] : [])))];
    const restart = changes.filter((c) => c.restart).map((c) => c.definition.id);
    const plan = planDeployment(before, after, { restart });
    const version = this.nextVersion(changes.map((c) => this.runtime.app(c.definition.id)?.current.version).filter((v): v is string => v !== undefined));
    const writes = changes.map((c) => {
      const appId = c.definition.id;
      const state = this.runtime.app(appId);
      const kind = appChange(state?.current.definition, c.definition, { restart: c.restart === true });
      const lastConfigChangeAt = c.lastConfigChangeAt ?? (state && (kind === 'scale' || kind === 'none') ? state.current.lastConfigChangeAt : version);
      return { appId, definition: c.definition, source: c.source ?? c.definition.source, version, lastConfigChangeAt, expected: state?.current.version ?? null };
    });
    const deployment = this.newDeployment(plan, touched, options.rollbackOf);
    await this.store.writeChange(writes, deployment, version, running.map((d) => d.record.id), removals);
    for (const d of running) this.ended(d, `superseded by deployment ${deployment.id}`);
    for (const write of writes) {
      const record = this.runtime.app(write.appId)?.record ?? { id: write.appId, version, lastHealthyVersion: null, createdAt: version, updatedAt: version };
      this.runtime.setApp({ record: { ...record, version, updatedAt: version }, current: { ...write, createdAt: version } });
      this.events.publish('api_post_event', { appDefinition: { ...write.source, id: write.appId, version } });
    }
    for (const appId of removals) {
      this.runtime.removeApp(appId);
      this.events.publish('app_terminated_event', { appId });
    }
    if (deployment.state === 'running') this.runtime.addDeployment(deployment);
    return { deploymentId: deployment.id, version };
  }

  /** Refuses (422) what the pool cannot run or place, before anything is written. */
  private checkRunnable(definition: AppDefinition): void {
    const gaps = poolGaps(definition);
    if (gaps.length > 0) throw new AppDefinitionInvalid(`app "${definition.id}"`, gaps);
    const probe = { instanceId: 'check' };
    this.options.cluster.check(instanceOwner(definition.id, probe.instanceId), submissionFor(definition, probe).submission);
  }

  /** Each changed app's service ports and virtual hosts against the apps there will be (discovery's rules). */
  private checkExposure(changed: readonly AppDefinition[], removals: readonly string[]): void {
    const check = this.options.exposure;
    if (!check) return;
    const gone = new Set([...changed.map((d) => d.id), ...removals]);
    const after = [...this.runtime.allApps().filter((s) => !gone.has(s.record.id)).map((s) => exposureOf(s.current.definition)), ...changed.map(exposureOf)];
    for (const definition of changed) check.check(exposureOf(definition), after.filter((e) => e.appId !== definition.id));
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
    const ended = canceled ? 'canceled' : 'failed';
    const targets: AppVersion[] = [];
    for (const appId of record.affectedApps) {
      const state = this.runtime.app(appId);
      const target = state?.record.lastHealthyVersion;
      const found = state && target && target !== state.current.version ? await this.store.getVersion(appId, target) : null;
      if (found) targets.push(found);
    }
    if (targets.length === 0) {
      const why = `${reason}; no app of it has an earlier version that was ever fully healthy: left as it is`;
      await this.store.updateDeployment(record.id, { state: ended, reason: why, finishedAt: this.now() });
      if (canceled) this.ended(deployment, why);
      else this.runtime.endDeployment(record.id);
      this.options.logger.warn({ deployment: record.id }, why);
      return null;
    }
    const to = targets.map((t) => `${t.appId} to version ${t.version}`).join(', ');
    await this.store.updateDeployment(record.id, { state: ended, reason: `${reason}: rolled back (${to})`, finishedAt: this.now() });
    if (canceled) this.ended(deployment, `${reason}: rolled back (${to})`);
    else this.runtime.endDeployment(record.id);
    this.options.logger.warn({ deployment: record.id, to }, `deployment ${ended} (${reason}): rolling back`);
    const before = targets.map((t) => this.runtime.app(t.definition.id)!.current.definition);
    return this.writeChange(targets, [], before, targets.map((t) => t.definition), { force: true, rollbackOf: record.id });
  }

  /**
   * A running deployment ended without succeeding and without failing on its own (superseded or
   * canceled): it gates its apps no more, and its followers hear why (a failure the runtime found
   * publishes its own deployment_failed).
   */
  private ended(deployment: RunningDeployment, reason: string): void {
    this.runtime.endDeployment(deployment.record.id);
    this.events.publish('deployment_failed', { id: deployment.record.id, plan: this.runtime.planView(deployment.record), reason });
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

  /** A version later than the apps' current ones (ISO time; one millisecond on when the clock has not moved). */
  private nextVersion(current: readonly string[]): string {
    const now = this.clock.now().getTime();
    return new Date(Math.max(now, ...current.map((v) => Date.parse(v) + 1))).toISOString();
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

function appsOfGroup(group: GroupDefinition): AppDefinition[] {
  return [...group.apps, ...group.groups.flatMap(appsOfGroup)];
}
