// An app as the rest of Gantry reads it once its definition has been validated: Marathon's canonical
// form (what its AppNormalization makes of an app: absolute ids, networks spelled out, deprecated
// fields moved to their successors) with every default filled in. Code that runs apps reads these
// types, never the posted JSON; `source` is that JSON, kept to store and to return as given.
import type { TaskConstraint } from '../../cluster/index.ts';

export type { TaskConstraint } from '../../cluster/index.ts';

export const HEALTH_CHECK_PROTOCOLS = ['HTTP', 'HTTPS', 'TCP', 'COMMAND', 'MESOS_HTTP', 'MESOS_HTTPS', 'MESOS_TCP'] as const;
export type HealthCheckProtocol = (typeof HEALTH_CHECK_PROTOCOLS)[number];

export const PORT_PROTOCOLS = ['tcp', 'udp', 'udp,tcp'] as const;
export type PortProtocol = (typeof PORT_PROTOCOLS)[number];

export const KILL_SELECTIONS = ['YOUNGEST_FIRST', 'OLDEST_FIRST'] as const;
export type KillSelection = (typeof KILL_SELECTIONS)[number];

/** What was posted, minus Marathon's read-only fields (tasks, deployments, ...). */
export type AppSource = Record<string, unknown>;

/** A port with host networking (`portDefinitions`). */
export interface PortDefinition {
  /** With requirePorts: the host port (0: any free one). Without: Marathon's service port, the host port being any. */
  port: number;
  protocol: PortProtocol;
  name: string | null;
  labels: Record<string, string>;
}

/**
 * A port with bridge or container networking (`container.portMappings`): the container's port, published
 * on a host port.
 */
export interface PortMapping {
  /** The port the program listens on inside; 0: the same number as the host port it gets. */
  containerPort: number;
  /**
   * 0: any free one. null (container networks only, where Marathon allocates none when it is absent):
   * any free one published on the agent's loopback only, for its probes; the port is reached at the
   * instance's own address.
   */
  hostPort: number | null;
  /** For load balancers (Marathon does not interpret it); 0: none asked for. */
  servicePort: number;
  protocol: PortProtocol;
  name: string | null;
  labels: Record<string, string>;
}

export type NetworkMode = 'host' | 'container/bridge' | 'container';

/**
 * The app's one network: the agent's (host), Docker's bridge, or a container network by name, where each
 * instance has its own IP address (the pool's TaskSpec.network naming it).
 */
export type AppNetwork = { mode: 'host' | 'container/bridge' } | { mode: 'container'; name: string };

export interface AppContainer {
  type: 'DOCKER' | 'MESOS';
  /** null: a MESOS container without an image (the program runs on the agent, as without a container). */
  docker: { image: string; forcePullImage: boolean } | null;
  /** With container/bridge or container networking (else empty). */
  portMappings: PortMapping[];
}

export interface HealthCheck {
  protocol: HealthCheckProtocol;
  /** HTTP kinds: the path asked for, from `/`; null for the others. */
  path: string | null;
  /** Port checks: which of the app's ports (index into portDefinitions or portMappings), unless `port` is set. */
  portIndex: number | null;
  /** Port checks: a port number given as such (Marathon's `port`), taking precedence over portIndex. */
  port: number | null;
  /** COMMAND: the shell command line; null for the others. */
  command: string | null;
  gracePeriodSeconds: number;
  intervalSeconds: number;
  timeoutSeconds: number;
  /** Marathon-level checks (HTTP, HTTPS, TCP): 0 means an unhealthy task is never killed for it. */
  maxConsecutiveFailures: number;
  /** Mesos-level checks: seconds before the first check (Marathon-level checks ignore it, as Marathon does). */
  delaySeconds: number;
  ignoreHttp1xx: boolean;
}

export interface ReadinessCheck {
  name: string;
  protocol: 'HTTP' | 'HTTPS';
  path: string;
  /** The name of one of the app's ports. */
  portName: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  httpStatusCodesForReady: number[];
  preserveLastResponse: boolean;
}

export interface UpgradeStrategy {
  /** Of `instances`, the share that stays healthy throughout a deployment, in [0, 1]. */
  minimumHealthCapacity: number;
  /** Of `instances`, the share that may run on top during a deployment, in [0, 1]. */
  maximumOverCapacity: number;
}

/** How long an instance on an unreachable agent is waited for: inactive (replaced), then expunged (killed if it returns). */
export type UnreachableStrategy = 'disabled' | { inactiveAfterSeconds: number; expungeAfterSeconds: number };

export interface AppDefinition {
  /** Absolute: `/prod/web`. */
  id: string;
  /** The definition as given, Marathon's read-only fields dropped: store this and return it. */
  source: AppSource;
  /** A shell command line (`/bin/sh -c`); with `args` null. */
  cmd: string | null;
  /** An argv (with an image: its entrypoint's arguments); with `cmd` null. Both null: an image's own command. */
  args: string[] | null;
  /** The user tasks run as on their agent; null: the agent's default (or the image's). */
  user: string | null;
  env: Record<string, string>;
  instances: number;
  cpus: number;
  /** MiB */
  mem: number;
  /** MiB */
  disk: number;
  gpus: number;
  container: AppContainer | null;
  /** Exactly one network. */
  networks: [AppNetwork];
  /** With host networking (else empty). */
  portDefinitions: PortDefinition[];
  /** Host networking only: the portDefinitions' numbers are the host ports. */
  requirePorts: boolean;
  healthChecks: HealthCheck[];
  /** At most one, as in Marathon. */
  readinessChecks: ReadinessCheck[];
  /** In the pool's form (Marathon's operators; an empty value is no value). */
  constraints: TaskConstraint[];
  labels: Record<string, string>;
  /** Absolute ids of apps or groups that must be running (and healthy) before this app starts. */
  dependencies: string[];
  upgradeStrategy: UpgradeStrategy;
  /** The delay before the first relaunch of a failed instance... */
  backoffSeconds: number;
  /** ...multiplied by this for each further consecutive failure... */
  backoffFactor: number;
  /** ...up to this. */
  maxLaunchDelaySeconds: number;
  /** Which instances go first when the app scales down. */
  killSelection: KillSelection;
  /** SIGTERM → SIGKILL; null: the pool's default. */
  taskKillGracePeriodSeconds: number | null;
  unreachableStrategy: UnreachableStrategy;
}

/** One of an app's ports, whichever way it was declared: what instances ask the pool for, in order (PORT0, PORT1, ...). */
export interface AppPort {
  name: string | null;
  protocol: PortProtocol;
  /** The host port asked for: 0 for any free one; null: none asked (a container network's, see PortMapping). */
  hostPort: number | null;
  /** With bridge or container networking: the port inside the container (0: the same as the host port); null with host networking. */
  containerPort: number | null;
}
