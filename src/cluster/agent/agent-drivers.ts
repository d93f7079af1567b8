// The drivers an agent runs tasks with, and what they add to its attributes: exec always; docker when
// a Docker engine answers at start (then the attribute `docker` is the engine's version, e.g.
// `docker:LIKE:.*` or `docker:LIKE:2[0-9]\..*` in a constraint picks agents that run containers).
import type { Logger } from 'pino';
import { detectDockerDriver } from '../drivers/docker.ts';
import type { Driver } from '../drivers/driver.ts';
import { createExecDriver } from '../drivers/exec.ts';
import { favorDynamicCgroupMoves } from '../drivers/cgroup-favordynmods.ts';
import type { Attributes } from '../types.ts';

export interface AgentDrivers {
  drivers: Driver[];
  /** Attributes the drivers report; the operator's own attributes of the same name win. */
  attributes: Attributes;
}

export interface AgentDriverOptions {
  /** How long the docker driver keeps exited containers after their end was reported. */
  keepExitedMs?: number;
  /** Dangling images older than this are pruned by the docker driver's GC; absent: never. */
  pruneImagesAfterMs?: number;
  /** Turn the kernel's cgroup `favordynmods` on at start (see cgroup-favordynmods.ts). */
  cgroupFavorDynmods?: boolean;
}

export async function detectAgentDrivers(logger: Logger, options: AgentDriverOptions = {}): Promise<AgentDrivers> {
  if (options.cgroupFavorDynmods) {
    const outcome = await favorDynamicCgroupMoves();
    if (outcome.on) logger.info({ component: 'exec' }, outcome.message);
    else logger.warn({ component: 'exec' }, outcome.message);
  }
  const drivers: Driver[] = [createExecDriver({ log: (msg: string) => logger.warn({ component: 'exec' }, msg) })];
  const attributes: Attributes = {};
  const docker = await detectDockerDriver({
    log: (msg: string) => logger.warn({ component: 'docker' }, msg),
    ...(options.keepExitedMs !== undefined ? { keepExitedMs: options.keepExitedMs } : {}),
    ...(options.pruneImagesAfterMs !== undefined ? { pruneImagesAfterMs: options.pruneImagesAfterMs } : {}),
  });
  if (docker) {
    drivers.push(docker.driver);
    attributes.docker = { kind: 'text', value: docker.version };
    logger.info({ version: docker.version }, 'Docker engine found: tasks with an image run in containers');
  } else {
    logger.info('no Docker engine answers: tasks with an image cannot run on this agent');
  }
  return { drivers, attributes };
}
