// What the docker driver asks the engine to create for a task (pure: tested with tables).
//
// - Command: `spec.cmd` runs as `/bin/sh -c CMD` (the entrypoint is replaced by the shell, as Marathon
//   does for `cmd`); `spec.args` becomes the container's command and the image's entrypoint stays
//   (`docker run IMAGE ARGS...`); with neither, the image's own entrypoint and command run.
// - Limits: Memory = mem MiB with MemorySwap equal to it (no swap beyond the limit, so the limit is
//   what the task gets), NanoCpus = cpus × 10^9 (a hard quota, as the exec driver's cgroup quota),
//   PidsLimit from the driver's options (the spec has no field for it). `disk` is not enforced.
// - Environment: exactly launch.env on top of the image's (the image keeps its PATH).
// - Network: TaskSpec.network, bridge by default. With bridge, each allocated host port P is published
//   from the same port number P inside the container (P/tcp → host P, on every host address): the
//   task's PORT0..n (the host ports) are then also the ports to listen on inside, with no per-task
//   translation; unless the spec maps it from another port inside (containerPorts, Marathon's
//   portMappings: C/tcp → host P). With host the task binds its host ports itself; none has no ports.
//   A container network (any other name) attaches the container to the engine's `gantry-<name>`
//   (docker-networks.ts), labelled gantry.network, and publishes its ports as bridge does: the task is
//   reached at its own address on the network by the tasks there, and at host:port by everyone else
//   (probes, clients outside), as any task with ports; a port of TaskSpec.loopbackPorts is published on
//   the agent's loopback only (its probes reach it, nothing from outside the agent does).
// - Directories: the sandbox is bind-mounted at its own path (so GANTRY_SANDBOX and MESOS_SANDBOX are
//   true inside); a shared working directory (a CI workspace) likewise, and the container starts in
//   it. Without one the container starts in the image's WORKDIR.
// - Init: the engine's init (tini) is PID 1 by default, so SIGTERM reaches a command that has no
//   handler for it and zombies are reaped, as they are for exec tasks.
// - Logs: the json-file log driver whatever the engine's default, because logs() reads the log back.
// - Labels: gantry.task, gantry.agent (when known), gantry.sandbox (recover() finds a sandbox root's
//   containers by it) and on a container network gantry.network (its name, for recover()).
// - User: the image's own, unless the task names one (TaskSpec.user, which its agent allows): then
//   the container's User. Never privileged.
import path from 'node:path';
import type Dockerode from 'dockerode';
import { namedNetworkOf } from '../container-network.ts';
import type { TaskLaunch } from './driver.ts';
import { dockerNetworkName, LABEL_NETWORK } from './docker-networks.ts';

export const LABEL_TASK = 'gantry.task';
export const LABEL_AGENT = 'gantry.agent';
export const LABEL_SANDBOX = 'gantry.sandbox';

const MiB = 1024 * 1024;
/** Where a port of TaskSpec.loopbackPorts is published: the agent's probes reach it, nothing outside the agent does. */
const LOOPBACK = '127.0.0.1';

export interface CreateSettings {
  /** The image reference to create from (with its tag). */
  image: string;
  pidsLimit: number;
  init: boolean;
}

/** The container's name: one per task, so a launch repeated for the same task cannot make a second one. */
export function containerName(taskId: string): string {
  return `gantry-${taskId}`;
}

export function containerCreateOptions(launch: TaskLaunch, settings: CreateSettings): Dockerode.ContainerCreateOptions {
  const { spec } = launch;
  if (spec.cmd !== undefined && spec.args !== undefined) throw new Error('a task gives at most one of cmd and args');
  const sandboxDir = path.resolve(launch.sandboxDir);
  const workingDir = launch.workingDir ? path.resolve(launch.workingDir) : undefined;
  const binds = [`${sandboxDir}:${sandboxDir}`];
  if (workingDir && workingDir !== sandboxDir) binds.push(`${workingDir}:${workingDir}`);
  const named = namedNetworkOf(spec);
  const network = named !== null ? dockerNetworkName(named) : (spec.network ?? 'bridge');
  const exposed: Record<string, object> = {};
  const bindings: Record<string, Dockerode.PortBinding[]> = {};
  const hostPorts = network === 'bridge' || named !== null ? launch.allocation.ports : [];
  hostPorts.forEach((port, index) => {
    const inside = spec.containerPorts?.[index] || port;
    exposed[`${inside}/tcp`] = {};
    bindings[`${inside}/tcp`] = [{ HostIp: spec.loopbackPorts?.[index] ? LOOPBACK : '', HostPort: String(port) }];
  });
  const labels: Record<string, string> = { [LABEL_TASK]: launch.taskId, [LABEL_SANDBOX]: sandboxDir };
  if (launch.agentId) labels[LABEL_AGENT] = launch.agentId;
  if (named !== null) labels[LABEL_NETWORK] = named;
  const memory = spec.mem > 0 ? Math.round(spec.mem * MiB) : 0;
  const options: Dockerode.ContainerCreateOptions = {
    name: containerName(launch.taskId),
    Image: settings.image,
    Env: Object.entries(launch.env).map(([key, value]) => `${key}=${value}`),
    Labels: labels,
    ExposedPorts: exposed,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Tty: false,
    OpenStdin: false,
    HostConfig: {
      NetworkMode: network,
      PortBindings: bindings,
      Binds: binds,
      Memory: memory,
      MemorySwap: memory, // equal: no swap on top of the limit
      NanoCpus: spec.cpus > 0 ? Math.round(spec.cpus * 1e9) : 0,
      PidsLimit: settings.pidsLimit > 0 ? settings.pidsLimit : 0,
      Init: settings.init,
      LogConfig: { Type: 'json-file', Config: {} },
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      Privileged: false,
    },
  };
  if (spec.user !== undefined) options.User = spec.user;
  if (workingDir) options.WorkingDir = workingDir;
  if (spec.cmd !== undefined) {
    options.Entrypoint = ['/bin/sh', '-c'];
    options.Cmd = [spec.cmd];
  } else if (spec.args !== undefined) {
    options.Cmd = [...spec.args];
  }
  return options;
}

/** The limits as the task record shows them, from what the container was created with (or inspected). */
export function describeLimits(host: Pick<Dockerode.HostConfig, 'Memory' | 'NanoCpus' | 'PidsLimit'> | undefined, warnings: readonly string[] = []): string {
  const parts: string[] = [];
  const memory = host?.Memory ?? 0;
  const nanoCpus = host?.NanoCpus ?? 0;
  const pids = host?.PidsLimit ?? 0;
  parts.push(memory > 0 ? `memory ${formatNumber(memory / MiB)} MiB (no swap)` : 'memory unlimited');
  parts.push(nanoCpus > 0 ? `cpu ${formatNumber(nanoCpus / 1e9)} (quota)` : 'cpu unlimited');
  if (pids > 0) parts.push(`pids ${pids}`);
  const text = `docker: ${parts.join(', ')}`;
  return warnings.length > 0 ? `${text}; engine warnings: ${warnings.join('; ')}` : text;
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 1000) / 1000);
}
