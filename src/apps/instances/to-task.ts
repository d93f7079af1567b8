// One instance of an app as the pool's task submission (cluster/index.ts `clusterClient.submit(owner, ...)`):
// its command or image, resources, ports, constraints, probes, kill grace period, user, and the
// environment Marathon gives its tasks (mesos/TaskBuilder.scala taskContextEnv, EnvironmentHelper.scala
// labelsToEnvVars) under the app's own variables, which win as in Marathon. The pool itself adds PORT0..n,
// PORT, PORTS, HOST and MESOS_SANDBOX (cluster/agent/task-environment.ts).
import type { TaskSubmission } from '../../cluster/index.ts';
import { AppDefinitionInvalid, appPorts, problemsOf, type AppDefinition, type AppPort, type Finding, type TaskConstraint } from '../definition/index.ts';
import { appTaskGroup, instanceOwner } from './owner.ts';
import { healthProbeOf, readinessProbeOf } from './probes.ts';

export interface InstanceInfo {
  /** The instance's id (no ":"); the task's owner is `app:<app id>:<instance id>`. */
  instanceId: string;
  /** The app version the instance runs, as MARATHON_APP_VERSION (Marathon: the version's timestamp). */
  version?: string;
  /** Between the kill's ask (the instance leaves DNS and load balancers) and its SIGTERM. */
  shutdownDelayMs?: number;
}

export interface InstanceTask {
  /** Pass it to `submit(owner, submission)`; the instance's task changes come back under it. */
  owner: string;
  submission: TaskSubmission;
  /** What of the definition the task does not honour, one readable line each, to show rather than drop silently. */
  notApplied: string[];
}

/** Marathon's limits on a label it passes as a variable (EnvironmentHelper.maxEnvironmentVarLength). */
const MAX_VARIABLE_LENGTH = 512;
const LABEL_PREFIX = 'MARATHON_APP_LABEL_';

/** The task for one instance. Throws AppDefinitionInvalid naming what the pool cannot run (pool-gaps.ts). */
export function taskForInstance(app: AppDefinition, instance: InstanceInfo): InstanceTask {
  const owner = instanceOwner(app.id, instance.instanceId);
  const { submission, gaps, notes } = submissionFor(app, instance);
  if (gaps.length > 0) throw new AppDefinitionInvalid(`app "${app.id}"`, problemsOf(gaps));
  return { owner, submission, notApplied: notes };
}

/** The submission, and what of the app the pool cannot run (gaps) or leaves out (notes). */
export function submissionFor(app: AppDefinition, instance: InstanceInfo): { submission: TaskSubmission; gaps: Finding[]; notes: string[] } {
  const gaps: Finding[] = [];
  const notes: string[] = [];
  const ports = appPorts(app);
  checkPorts(app, ports, gaps, notes);
  const health = healthProbeOf(app, ports, gaps, notes);
  const readiness = readinessProbeOf(app, ports, gaps, notes);
  const image = app.container?.docker ?? null;
  if (image !== null && app.container?.type === 'MESOS') notes.push('container type MESOS: the image runs on the Docker driver');
  const submission: TaskSubmission = {
    name: app.id,
    group: appTaskGroup(app.id),
    // A soft spread of the instances over agents that still lets a rolling upgrade's extra one land beside one.
    spreadGroup: true,
    env: { ...marathonEnvironment(app, instance), ...app.env },
    cpus: app.cpus,
    mem: app.mem,
    disk: app.disk,
    constraints: app.constraints.map(withAppGroups),
    ...(app.gpus > 0 ? { gpus: app.gpus } : {}),
    ...(ports.length > 0 ? { ports: ports.map((p) => p.hostPort ?? 0) } : {}),
    ...portMapping(app, ports),
    ...(app.cmd !== null ? { cmd: app.cmd } : {}),
    ...(app.args !== null ? { args: app.args } : {}),
    ...(image !== null ? { image: image.image, network: taskNetwork(app), ...(image.forcePullImage ? { forcePull: true } : {}) } : {}),
    ...(app.user !== null ? { user: app.user } : {}),
    ...(app.taskKillGracePeriodSeconds !== null ? { killGraceMs: app.taskKillGracePeriodSeconds * 1000 } : {}),
    ...(instance.shutdownDelayMs ? { shutdownDelayMs: instance.shutdownDelayMs } : {}),
    ...(health ? { health } : {}),
    ...(readiness ? { readiness } : {}),
  };
  return { submission, gaps, notes };
}

/** The pool's network for the app's containers: the agent's, Docker's bridge, or a container network by name. */
function taskNetwork(app: AppDefinition): string {
  const network = app.networks[0];
  return network.mode === 'container' ? network.name : network.mode === 'host' ? 'host' : 'bridge';
}

/**
 * The pool allocates host ports and, on bridge and container networks, publishes each from its container
 * port (cluster/drivers/docker-create.ts, TaskSpec.containerPorts); UDP it does not publish: a gap.
 */
function checkPorts(app: AppDefinition, ports: readonly AppPort[], gaps: Finding[], notes: string[]): void {
  const { mode } = app.networks[0];
  if (mode !== 'host') {
    if (!app.container?.docker) {
      gaps.push({ path: ['networks', 0, 'mode'], message: `${mode} networking needs a Docker image: a task without one runs on its agent's network (use "host")` });
    }
    ports.forEach((port, i) => {
      const at = ['container', 'portMappings', i];
      if (port.protocol !== 'tcp') gaps.push({ path: [...at, 'protocol'], message: `${port.protocol}: the pool's Docker driver publishes TCP ports only` });
    });
  }
}

/**
 * The container port each host port is published from (bridge and container networks), those published
 * on the agent's loopback only (a container network's port without a hostPort: Marathon allocates none,
 * the pool one its probes reach), and the ports' names: the pool sets PORT_<container port> and
 * PORT_<NAME> from them, as Marathon does.
 */
function portMapping(app: AppDefinition, ports: readonly AppPort[]): Pick<TaskSubmission, 'containerPorts' | 'loopbackPorts' | 'portNames'> {
  const mapped = app.networks[0].mode !== 'host' && app.container?.docker;
  const containerPorts = mapped ? ports.map((p) => p.containerPort ?? 0) : [];
  const loopbackPorts = mapped ? ports.map((p) => p.hostPort === null) : [];
  const portNames = ports.map((p) => p.name ?? '');
  return {
    ...(containerPorts.some((p) => p !== 0) ? { containerPorts } : {}),
    ...(loopbackPorts.some((loopback) => loopback) ? { loopbackPorts } : {}),
    ...(portNames.some((n) => n !== '') ? { portNames } : {}),
  };
}

/**
 * Affinity to another app (`["hostname", "WITH", "/prod/db"]`, beyond Marathon): the pool places by
 * task group, and an app's instances are the group `app:<id>`.
 */
function withAppGroups(constraint: TaskConstraint): TaskConstraint {
  const [field, operator, value] = constraint;
  if ((operator === 'WITH' || operator === 'WITHOUT') && value?.startsWith('/')) return [field, operator, appTaskGroup(value)];
  return constraint;
}

/** Marathon's task variables, and Gantry's naming the app and instance. */
function marathonEnvironment(app: AppDefinition, instance: InstanceInfo): Record<string, string> {
  const env: Record<string, string> = {
    GANTRY_APP_ID: app.id,
    GANTRY_APP_INSTANCE: instance.instanceId,
    MARATHON_APP_ID: app.id,
    ...(instance.version !== undefined ? { MARATHON_APP_VERSION: instance.version } : {}),
    ...(app.container?.docker ? { MARATHON_APP_DOCKER_IMAGE: app.container.docker.image } : {}),
    MARATHON_APP_RESOURCE_CPUS: javaDouble(app.cpus),
    MARATHON_APP_RESOURCE_MEM: javaDouble(app.mem),
    MARATHON_APP_RESOURCE_DISK: javaDouble(app.disk),
    MARATHON_APP_RESOURCE_GPUS: String(app.gpus),
  };
  const labels = Object.entries(app.labels)
    .filter(([key, value]) => key.length < MAX_VARIABLE_LENGTH - LABEL_PREFIX.length && value.length < MAX_VARIABLE_LENGTH)
    .map(([key, value]) => [key.replace(/[^a-zA-Z0-9_]+/g, '_').toUpperCase(), value] as const);
  env.MARATHON_APP_LABELS = labels.map(([name]) => name).join(' ');
  for (const [name, value] of labels) env[`${LABEL_PREFIX}${name}`] = value;
  return env;
}

/** Marathon prints its resources with Scala's Double.toString: 128 is "128.0". */
function javaDouble(n: number): string {
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}
