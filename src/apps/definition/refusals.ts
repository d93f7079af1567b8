// Marathon fields Gantry knows and refuses, each with the reason a person can act on: one table, so
// that what apps cannot do is read in one place (and in src/apps/README.md). An empty list or map, or
// the value that means "nothing asked" (privileged false, tty false, acceptedResourceRoles ["*"]), is
// accepted: apps exported from Marathon carry them and must post back unchanged.
import { z } from 'zod';

export const REFUSED = {
  privileged:
    'privileged containers are not supported: tasks run unprivileged (a privileged container is root on its agent)',
  parameters:
    'docker parameters are not passed to the engine: options such as --privileged, --volume, --cap-add or --device would ' +
    'give a task what an unprivileged task must not have; leave the list empty',
  credential: 'docker.credential was removed in Marathon 1.5: log the agents in to the registry instead (the bundled registry needs nothing)',
  pullConfig: 'docker.pullConfig names a secret of a secret store, which apps do not have yet',
  hostVolume: 'host volumes are not supported: a task could mount any path of its agent (tasks run unprivileged)',
  persistentVolume: 'local persistent volumes are not supported yet',
  externalVolume: 'external volumes are not supported',
  secretVolume: 'secret volumes need a secret store, which apps do not have yet',
  linuxInfo: 'container.linuxInfo (seccomp profile, IPC mode) is not supported: containers get the engine\'s defaults',
  secrets: 'secrets are not supported for apps yet (no secret store for apps): leave "secrets" empty',
  envSecret: 'a secret reference is not supported for apps yet (no secret store for apps): give the value itself',
  fetch:
    'files are not downloaded into the sandbox (there is no Mesos fetcher): build them into an image, or download them ' +
    'in "cmd" (e.g. "curl -fsSLO URL && ./script.sh")',
  acceptedResourceRoles:
    'the pool does not place by resource role: use a constraint on an agent attribute instead (e.g. ["public", "IS", "true"]); ' +
    'only ["*"] (any agent) is accepted',
  ipAddress: 'ipAddress (an IP per task) was replaced by "networks" in Marathon 1.5: use "networks": [{"mode": "container", "name": NAME}]',
  residency: 'local persistent volumes (residency) are not supported yet',
  resourceLimits: 'resourceLimits are not supported: a task is held to the cpus and mem it asks for',
  check: 'Mesos checks ("check") are not supported: use healthChecks or readinessChecks',
  executor: 'custom Mesos executors are not supported: leave "executor" empty (or "//cmd", the command executor)',
  executorResources: 'custom Mesos executors are not supported, so they need no resources',
  tty: 'tasks get no pseudo-terminal (tty)',
  networkNames: 'an app has one network: a port mapping\'s networkNames may only name it',
  ipv6: 'health checks connect over IPv4',
  dockerNetworkNone: 'unsupported docker network type NONE (as in Marathon 1.5+): an app without a network has nothing to serve on',
  dockerNetworkUser:
    'docker network USER named its container network in ipAddress, which was replaced in Marathon 1.5: use "networks": ' +
    '[{"mode": "container", "name": NAME}]',
  pods: 'pods are not supported: give their containers as apps',
  scaleBy: '"scaleBy" scales a deployed group; it is not part of a group\'s definition',
} as const;

/** A field refused whenever it is given. */
export function refusedField(reason: string) {
  return z.unknown().superRefine((_, ctx) => ctx.addIssue({ code: 'custom', message: reason }));
}

/** A field of type `schema`, refused when `refused(value)` holds. */
export function refusedWhen<T extends z.ZodType>(schema: T, refused: (value: z.output<T>) => boolean, reason: string) {
  return schema.superRefine((value, ctx) => {
    if (refused(value)) ctx.addIssue({ code: 'custom', message: reason });
  });
}

/** Container volumes: every kind refused, each for its own reason (appContainer.raml AppVolume). */
export function volumeRefusal(volume: unknown): string {
  const v = (typeof volume === 'object' && volume !== null ? volume : {}) as Record<string, unknown>;
  if ('persistent' in v) return REFUSED.persistentVolume;
  if ('external' in v) return REFUSED.externalVolume;
  if ('secret' in v) return REFUSED.secretVolume;
  return REFUSED.hostVolume;
}
