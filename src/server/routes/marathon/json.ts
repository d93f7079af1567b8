// Marathon's JSON shapes for what the apps domain holds, so that /v2 clients (the DC/OS CLI, marathon-lb,
// scripts written against Marathon) read our answers as they read Marathon's. Checked against
// mesosphere/marathon docs/docs/rest-api/public/api/v2/types/*.raml (app, task, healthCheck, queue,
// deploymentEventsInfo, deploymentResult) and the writers that produce them (raml/AppConversion.scala
// appWriter, raml/TaskConversion.scala, raml/DeploymentPlanConversion.scala, raml/QueueInfoConversion.scala).
//
// An app is rendered from its canonical definition as Marathon's appWriter renders its own: every field
// written out with its default, deprecated fields (`ports`, `uris`, `ipAddress`) never written,
// portDefinitions only with host networking and container.portMappings only with bridge networking. What
// is rendered posts back unchanged (the definition parser drops Marathon's read-only fields).
import { marathonTaskStatus, type AppDefinition, type AppView, type DeploymentView, type HealthCheck, type QueueItem, type TaskFailure } from '../../../apps/index.ts';
import type { TaskRecord } from '../../../cluster/index.ts';

export type Json = Record<string, unknown>;

/** What `embed=apps.X` (or `app.X`) asks to be added to each app (AppInfo.Embed). */
export type AppEmbed = 'tasks' | 'counts' | 'deployments' | 'lastTaskFailure' | 'readiness';

const HTTP_KINDS: ReadonlySet<HealthCheck['protocol']> = new Set(['HTTP', 'HTTPS', 'MESOS_HTTP', 'MESOS_HTTPS']);
const MARATHON_LEVEL: ReadonlySet<HealthCheck['protocol']> = new Set(['HTTP', 'HTTPS', 'TCP']);

/**
 * The embeds asked for by `embed` query values (InfoEmbedResolver): `apps.tasks` (which brings the
 * deployments along, as Marathon does), `apps.count(s)`, `apps.deployments`, `apps.lastTaskFailure`,
 * `apps.readiness`, and `apps.failures` for all of lastTaskFailure, tasks, counts and deployments.
 * `always`: what the endpoint embeds whatever is asked (counts and deployments on lists).
 */
export function embedsOf(values: readonly string[], always: readonly AppEmbed[]): Set<AppEmbed> {
  const embeds = new Set<AppEmbed>(always);
  for (const value of values) {
    const name = value.replace(/^apps?\./, '');
    if (name === 'tasks') embeds.add('tasks').add('deployments');
    else if (name === 'counts' || name === 'count') embeds.add('counts');
    else if (name === 'deployments') embeds.add('deployments');
    else if (name === 'lastTaskFailure') embeds.add('lastTaskFailure');
    else if (name === 'readiness') embeds.add('readiness');
    else if (name === 'failures') for (const e of ['lastTaskFailure', 'tasks', 'counts', 'deployments'] as const) embeds.add(e);
  }
  return embeds;
}

/**
 * Rendered definitions by definition: a version's definition never changes, so GET /v2/apps renders each
 * once (1,000 apps listed again and again). Callers copy the top level before adding to it.
 */
const rendered = new WeakMap<AppDefinition, Json>();

/** An app definition as Marathon writes one (appWriter), without version information. */
export function marathonDefinition(app: AppDefinition): Json {
  let json = rendered.get(app);
  if (json === undefined) {
    json = renderDefinition(app);
    rendered.set(app, json);
  }
  return json;
}

function renderDefinition(app: AppDefinition): Json {
  // Bridge and container networks map ports (portMappings); host networking defines them (portDefinitions).
  const bridge = app.networks[0].mode !== 'host';
  const json: Json = { id: app.id };
  if (app.cmd !== null) json.cmd = app.cmd;
  if (app.args !== null) json.args = app.args;
  if (app.user !== null) json.user = app.user;
  Object.assign(json, {
    env: app.env,
    instances: app.instances,
    cpus: app.cpus,
    mem: app.mem,
    disk: app.disk,
    gpus: app.gpus,
    executor: '',
    constraints: app.constraints,
  });
  if (app.container !== null) json.container = containerJson(app, bridge);
  json.networks = app.networks.map((n) => (n.mode === 'container' ? { mode: n.mode, name: n.name } : { mode: n.mode }));
  if (!bridge) json.portDefinitions = app.portDefinitions.map((p) => ({ port: p.port, protocol: p.protocol, ...(p.name !== null ? { name: p.name } : {}), labels: p.labels }));
  Object.assign(json, {
    requirePorts: app.requirePorts,
    healthChecks: app.healthChecks.map(healthCheckJson),
    readinessChecks: app.readinessChecks.map((r) => ({ ...r })),
    labels: app.labels,
    dependencies: app.dependencies,
    upgradeStrategy: { minimumHealthCapacity: app.upgradeStrategy.minimumHealthCapacity, maximumOverCapacity: app.upgradeStrategy.maximumOverCapacity },
    backoffSeconds: app.backoffSeconds,
    backoffFactor: app.backoffFactor,
    maxLaunchDelaySeconds: app.maxLaunchDelaySeconds,
    killSelection: app.killSelection,
    unreachableStrategy: app.unreachableStrategy === 'disabled' ? 'disabled' : { ...app.unreachableStrategy },
    fetch: [],
    secrets: {},
  });
  if (app.taskKillGracePeriodSeconds !== null) json.taskKillGracePeriodSeconds = app.taskKillGracePeriodSeconds;
  return json;
}

function containerJson(app: AppDefinition, bridge: boolean): Json {
  const container = app.container!;
  return {
    type: container.type,
    ...(container.docker !== null ? { docker: { image: container.docker.image, forcePullImage: container.docker.forcePullImage, privileged: false, parameters: [] } } : {}),
    volumes: [],
    // appWriter drops portMappings (None) unless the app is on a non-host network.
    ...(bridge
      ? {
          portMappings: container.portMappings.map((m) => ({
            containerPort: m.containerPort,
            // Absent on a container network where none was asked for, as Marathon writes it.
            ...(m.hostPort !== null ? { hostPort: m.hostPort } : {}),
            servicePort: m.servicePort,
            protocol: m.protocol,
            ...(m.name !== null ? { name: m.name } : {}),
            labels: m.labels,
          })),
        }
      : {}),
  };
}

/** AppHealthCheck (healthCheck.raml): the fields its protocol uses, with their values. */
function healthCheckJson(check: HealthCheck): Json {
  const json: Json = { protocol: check.protocol };
  if (HTTP_KINDS.has(check.protocol)) json.path = check.path ?? '/';
  if (check.port !== null) json.port = check.port;
  else if (check.portIndex !== null) json.portIndex = check.portIndex;
  if (check.command !== null) json.command = { value: check.command };
  Object.assign(json, {
    gracePeriodSeconds: check.gracePeriodSeconds,
    intervalSeconds: check.intervalSeconds,
    timeoutSeconds: check.timeoutSeconds,
    maxConsecutiveFailures: check.maxConsecutiveFailures,
    delaySeconds: check.delaySeconds,
  });
  if (check.protocol === 'HTTP' || check.protocol === 'HTTPS') json.ignoreHttp1xx = check.ignoreHttp1xx;
  if (MARATHON_LEVEL.has(check.protocol)) json.ipProtocol = 'IPv4';
  return json;
}

/** An app as GET /v2/apps shows it (AppInfo): its definition, version information and the embeds asked for. */
export function marathonApp(view: AppView, embeds: ReadonlySet<AppEmbed>): Json {
  const json: Json = { ...marathonDefinition(view.definition), ...versionJson(view.version, view.lastConfigChangeAt) };
  if (embeds.has('counts')) {
    Object.assign(json, { tasksStaged: view.counts.staged, tasksRunning: view.counts.running, tasksHealthy: view.counts.healthy, tasksUnhealthy: view.counts.unhealthy });
  }
  if (embeds.has('deployments')) json.deployments = view.deployments.map((id) => ({ id }));
  if (embeds.has('readiness')) json.readinessCheckResults = readinessResults(view);
  if (embeds.has('tasks')) json.tasks = marathonTasks(view.tasks, view.definition);
  if (embeds.has('lastTaskFailure') && view.lastTaskFailure !== null) json.lastTaskFailure = taskFailureJson(view.definition.id, view.lastTaskFailure);
  return json;
}

/** `version` and `versionInfo` (FullVersionInfo: the last scaling is the version itself). */
export function versionJson(version: string, lastConfigChangeAt: string): Json {
  return { version, versionInfo: { lastScalingAt: version, lastConfigChangeAt } };
}

/** The tasks Marathon lists: instances that have a task on an agent (a task still waiting for one is in the queue). */
export function marathonTasks(tasks: readonly TaskRecord[], app: AppDefinition): Json[] {
  const servicePorts = servicePortsOf(app);
  return tasks.filter((t) => t.state !== 'queued').map((t) => marathonTask(t, app, servicePorts));
}

/** A task (task.raml Task, TaskConversion's enrichedTaskRamlWrite). */
export function marathonTask(task: TaskRecord, app: AppDefinition, servicePorts: number[] = servicePortsOf(app)): Json {
  const json: Json = {
    id: task.id,
    appId: app.id,
    host: task.allocation?.host ?? '',
    ports: task.allocation?.ports ?? [],
    servicePorts,
    slaveId: task.agentId ?? '',
    state: marathonTaskState(task),
    stagedAt: task.stagedAt ?? task.createdAt,
  };
  if (task.startedAt !== null) json.startedAt = task.startedAt;
  // Its own address on a container network (Marathon: the task's container IP, task.raml ipAddresses).
  if (task.address !== null) json.ipAddresses = [{ ipAddress: task.address, protocol: task.address.includes(':') ? 'IPv6' : 'IPv4' }];
  json.version = task.spec.env.MARATHON_APP_VERSION ?? '';
  json.healthCheckResults = healthResults(task, app);
  return json;
}

/**
 * Mesos's state of the task: TASK_KILLING once a kill was asked and until it ended (Marathon's
 * Condition.Killing), so that a load balancer reading TASK_RUNNING stops sending it traffic.
 */
export function marathonTaskState(task: TaskRecord): string {
  const ending = task.killRequested && (task.state === 'staging' || task.state === 'running');
  return ending ? 'TASK_KILLING' : marathonTaskStatus(task.state);
}

/**
 * Health (healthCheck.raml): one result once the task's check has a verdict. The pool reports verdicts,
 * not counts, so an unhealthy task shows the failures it took to turn unhealthy. `taskId` is what
 * Marathon before 1.4 named `instanceId`, which clients of either read.
 */
function healthResults(task: TaskRecord, app: AppDefinition): Json[] {
  const check = app.healthChecks[0];
  if (check === undefined || task.health === null || task.state !== 'running') return [];
  const alive = task.health === 'healthy';
  return [
    {
      alive,
      consecutiveFailures: alive ? 0 : Math.max(1, check.maxConsecutiveFailures),
      instanceId: task.id,
      taskId: task.id,
      ...(!alive && task.probeMessage !== null ? { lastFailureCause: task.probeMessage } : {}),
    },
  ];
}

function readinessResults(view: AppView): Json[] {
  const check = view.definition.readinessChecks[0];
  if (check === undefined) return [];
  return view.tasks.filter((t) => t.state === 'running' && t.ready !== null).map((t) => ({ name: check.name, taskId: t.id, ready: t.ready === true }));
}

/** The ports a load balancer serves the app on: Marathon's servicePorts (0 where none was asked). */
function servicePortsOf(app: AppDefinition): number[] {
  if (app.networks[0].mode !== 'host') return (app.container?.portMappings ?? []).map((m) => m.servicePort);
  return app.portDefinitions.map((p) => p.port);
}

/** task.raml TaskFailure. */
function taskFailureJson(appId: string, failure: TaskFailure): Json {
  return {
    appId,
    host: failure.host,
    ...(failure.agentId ? { slaveId: failure.agentId } : {}),
    message: failure.message,
    state: marathonTaskStatus(failure.state),
    taskId: failure.taskId,
    timestamp: failure.timestamp,
    version: failure.version,
  };
}

/** A running deployment (deploymentEventsInfo.raml DeploymentStepInfo; currentStep counts from 1, as Marathon's). */
export function marathonDeployment(view: DeploymentView): Json {
  const plan = view.plan as { id: string; version: string; affectedApps: string[]; steps: Array<{ actions: Json[] }> };
  const current = (view.currentStep as { actions?: Json[] }).actions ?? [];
  return {
    id: plan.id,
    version: plan.version,
    affectedApps: plan.affectedApps,
    affectedPods: [],
    steps: plan.steps,
    currentActions: current.map((action) => ({ ...action, readinessCheckResults: [] })),
    currentStep: view.record.currentStep + 1,
    totalSteps: plan.steps.length,
  };
}

/**
 * A queue item (queue.raml QueueApp): the app, how many instances are left to launch, and the launch
 * delay (`overdue`: waiting for room rather than backed off). Marathon's offer statistics
 * (`processedOffersSummary`) have no counterpart in the pool, which says instead why it cannot place
 * the instances (`waitingReasons`) and why it refused the last launch (`lastLaunchError`).
 */
export function marathonQueueItem(item: QueueItem, app: AppView | null, waitingSince: string | null): Json {
  return {
    app: app ? { ...marathonDefinition(app.definition), ...versionJson(app.version, app.lastConfigChangeAt) } : { id: item.appId },
    count: item.count,
    role: '*',
    delay: { timeLeftSeconds: Math.ceil(item.delayMs / 1000), overdue: item.delayMs === 0 },
    ...(waitingSince !== null ? { since: waitingSince } : {}),
    waitingReasons: item.waitingReasons,
    lastLaunchError: item.lastLaunchError,
  };
}
