// Container networks by name (issue 20, Mesos's container networks that needed Calico or Weave): a task
// with an image whose TaskSpec.network is not one of Docker's own (bridge, host, none) joins the
// network of that name, a Docker user-defined bridge the agent creates on first use and removes once no
// task uses it (drivers/docker-networks.ts). Each task gets its own IP address there, which tasks on the
// same network reach and tasks on another cannot. The rules on names are here, pure, so that the pool's
// validation and apps' definitions (through cluster/index.ts) say the same thing.
import { CONTAINER_NETWORKS, type TaskSpec } from './types.ts';

/** What Docker takes as a name (its container name rule), kept to a DNS label's length. */
export const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
export const NETWORK_NAME_RULE = 'a container network\'s name is letters, digits, _ . - (at most 63), starting with a letter or digit';

/** Docker's own networks (and `default`, its word for bridge): never a container network's name. */
const DOCKER_NETWORKS: readonly string[] = [...CONTAINER_NETWORKS, 'default'];

/** Why `name` cannot name a container network, or null when it can. */
export function networkNameProblem(name: string): string | null {
  if (DOCKER_NETWORKS.includes(name.toLowerCase())) {
    return `"${name}" is one of Docker's own networks (${DOCKER_NETWORKS.join(', ')}), not a container network's name`;
  }
  if (!NETWORK_NAME.test(name)) return `"${name}": ${NETWORK_NAME_RULE}`;
  return null;
}

/** The container network the task joins, or null for Docker's own (bridge, host, none) or no image. */
export function namedNetworkOf(spec: Pick<TaskSpec, 'network'>): string | null {
  const network = spec.network;
  return network === undefined || (CONTAINER_NETWORKS as readonly string[]).includes(network) ? null : network;
}
