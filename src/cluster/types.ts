// The cluster's vocabulary: resources, attributes, constraints, task specs and records, agents.
// Everything other folders need from the pool is re-exported by src/cluster/index.ts.
import type { ProbeSpec } from './probes/probe-spec.ts';

/** An inclusive range of integers, e.g. ports [31000, 32000]. */
export type Range = readonly [number, number];

/**
 * A set of resources in the Mesos model. `cpus`, `mem` (MiB), `disk` (MiB) and `gpus` are scalars;
 * `ports` is a range resource; anything else is custom (`bugs(debug_role):{a,b,c}` is the set resource
 * `bugs`). Roles are kept for display and compatibility; placement does not reserve by role.
 */
export interface Resources {
  scalars: Record<string, number>;
  ranges: Record<string, Range[]>;
  sets: Record<string, string[]>;
  /** resource name → role, for resources declared with a role (`name(role):value`). */
  roles?: Record<string, string>;
}

/** An agent attribute in the Mesos syntax: `rack:abc` (text), `level:10` (scalar), `keys:[1000-1500]`. */
export type AttributeValue =
  | { kind: 'text'; value: string }
  | { kind: 'scalar'; value: number }
  | { kind: 'ranges'; ranges: Range[] }
  | { kind: 'set'; items: string[] };

export type Attributes = Record<string, AttributeValue>;

export const CONSTRAINT_OPERATORS = ['UNIQUE', 'CLUSTER', 'GROUP_BY', 'LIKE', 'UNLIKE', 'MAX_PER', 'IS', 'WITH', 'WITHOUT'] as const;
export type ConstraintOperator = (typeof CONSTRAINT_OPERATORS)[number];

/**
 * A Marathon constraint `[field, OPERATOR, value?]`. `field` is `hostname` or an attribute name.
 * Constraints that count tasks (UNIQUE, CLUSTER without value, GROUP_BY, MAX_PER) count the active
 * tasks of the same `group` (see TaskSpec.group). Beyond Marathon, affinity to another group (Docker
 * Swarm's `affinity:container==`): WITH places the task where the value of the field is one that an
 * active task of the group named by the value runs at (`hostname:WITH:app:/prod/db`: on a host running
 * the database; `rack:WITH:…`: in such a rack); WITHOUT where none does.
 */
export interface Constraint {
  field: string;
  operator: ConstraintOperator;
  value?: string;
}

/** Docker's own networks; any other TaskSpec.network names a container network (container-network.ts). */
export const CONTAINER_NETWORKS = ['bridge', 'host', 'none'] as const;
export type ContainerNetwork = (typeof CONTAINER_NETWORKS)[number];
/** One of Docker's own networks, or the name of a container network (`blue`). */
export type TaskNetwork = ContainerNetwork | (string & {});

export const RANKERS = ['binpack', 'spread', 'random'] as const;
export type RankerName = (typeof RANKERS)[number];

/** What a client asks the pool to run. Validated by cluster/task-spec.ts before it reaches the store. */
export interface TaskSpec {
  /** Human name shown in listings; defaults to the command. */
  name: string;
  /** Who submitted the task and decides its retries: `job:NAME:RUN`, `ci:RUN:STEP`, `app:ID:INSTANCE`, `user:NAME`. */
  owner: string;
  /** Tasks sharing a group are counted together by constraints (Marathon: the instances of one app). */
  group: string;
  /**
   * A shell command line run by `/bin/sh -c` (Marathon `cmd`). Exactly one of cmd and args is set,
   * except that a task with an image may have neither: it runs the image's own entrypoint and command.
   */
  cmd?: string;
  /** An argv executed directly without a shell (Marathon `args`; with an image: the arguments of its entrypoint). */
  args?: string[];
  env: Record<string, string>;
  cpus: number;
  /** MiB */
  mem: number;
  /** MiB */
  disk: number;
  gpus: number;
  /** Host ports wanted: 0 = any free port from the agent's `ports` ranges, otherwise that exact port. */
  ports: number[];
  /** Custom resources: for a scalar the amount, for a range or set resource the number of items. */
  resources: Record<string, number>;
  constraints: Constraint[];
  /** Placement strategy for this task; the server default applies when absent. */
  strategy?: RankerName;
  /**
   * Prefer agents with fewer active tasks of the same `group` (placement/rankers/group-spread.ts): a
   * soft spread of an app's instances, beside the strategy; every feasible agent is then scored.
   */
  spreadGroup?: boolean;
  /** SIGTERM → SIGKILL grace period. */
  killGraceMs: number;
  /**
   * A kill of the running task waits this long before its SIGTERM (Nomad's shutdown_delay): the task
   * leaves service discovery and load balancers the moment its kill is asked for (killRequested), and
   * finishes what it was sent meanwhile. A drain of its agent or a task the master ended does not wait.
   */
  shutdownDelayMs?: number;
  /**
   * The instant the task's command starts (ISO 8601). Everything before it is done ahead: placement,
   * the process (or container) prepared and waiting, so that many tasks due at one instant start at
   * that instant instead of one after the other (the batch scheduler launches its runs a little early
   * with it). Reported `running` while it waits; a kill works as usual. A past instant: at once.
   */
  startAt?: string;
  /** Container image; tasks with an image run on the docker driver (src/cluster/drivers/docker.ts). */
  image?: string;
  /** With an image: pull it before every start, even when the agent holds it (default: only when absent). */
  forcePull?: boolean;
  /**
   * With an image: only pull it (always, with forcePull) and end; no container runs. What `gantry
   * images prewarm` submits, one per agent, to have an image on agents ahead of a deployment.
   */
  pullOnly?: boolean;
  /**
   * Build an image instead of running a command (a CI build step): the docker driver sends the
   * context from the task's workspace to its engine, streams the build's output as the task's, pushes
   * the image to the bundled registry with the platform robot and ends with the pushed digest in
   * TaskRecord.result. Needs `workspace`; the task has no cmd, args nor image.
   */
  build?: ImageBuildSpec;
  /**
   * Assemble an image without a Docker engine (a CI build step with `from:`): the agent puts files of
   * the task's workspace onto a base image of the bundled registry as one reproducible layer
   * (cluster/image-builder) and pushes it with the platform robot; the digest ends in
   * TaskRecord.result as for `build`. Runs on any agent; needs `workspace`; no cmd, args nor image.
   */
  assemble?: ImageAssembleSpec;
  /**
   * With an image: the container's network. `bridge` (the default) publishes each allocated host port
   * from the same port number inside (or from its containerPorts entry); `host` shares the agent's
   * network (the task binds its ports itself); `none` has only loopback (no ports). Any other name is a
   * container network (container-network.ts): a Docker network of that name on the agent, made on first
   * use and removed once no task uses it, where the task has its own IP address (TaskRecord.address)
   * that tasks on the same network reach and tasks on another do not; its ports are published on the
   * host as with bridge (on the agent's loopback only for those of `loopbackPorts`), so that the agent's
   * probes reach it as they reach any task.
   */
  network?: TaskNetwork;
  /**
   * With an image on the bridge network or a container network: for each entry of `ports`, the port
   * inside the container its host port is published from (Marathon's portMappings containerPort), so
   * that an image listens on its usual port (8080) whatever host port it got. 0: the host port's own
   * number (the default). On a container network these are the ports to reach it on at its address.
   */
  containerPorts?: number[];
  /**
   * With an image on the bridge network or a container network: for each entry of `ports`, true to
   * publish its host port on the agent's loopback address only, where the agent's probes reach it and
   * nothing from outside the agent does: a port reached at the task's own address on its container
   * network (Marathon's port mapping without a hostPort there). Absent: every port on every address.
   */
  loopbackPorts?: boolean[];
  /**
   * A name for each entry of `ports` (Marathon's port names, e.g. `http`; '' for none): the task finds
   * its host port in PORT_<NAME> (PORT_HTTP) besides PORTn.
   */
  portNames?: string[];
  /**
   * Values to mask as `********` (e.g. the secrets a CI step gets in its env): the agent masks them in
   * the task's output before it leaves the agent (rules: src/shared/redactor.ts), and the API never
   * shows them (src/cluster/redacted-task.ts). Only the agent running the task receives them.
   */
  redact?: string[];
  /**
   * A directory on the agent shared by every task naming it (a CI run's workspace: the clone step
   * fills it, the next steps build in it), `<agent work dir>/workspaces/<name>`, created when missing.
   * The task runs in it instead of its sandbox and sees it as GANTRY_WORKSPACE. Removing it is its
   * owner's job.
   */
  workspace?: string;
  /**
   * The user the task runs as on its agent (Marathon's `user`): one of the agent's allowed task users
   * (`gantry agent --task-users`); placement only picks agents that allow it. Absent: the agent's
   * default task user (exec) or the image's own user (docker, where a given name becomes the
   * container's User).
   */
  user?: string;
  /**
   * Restart the task in place on its agent when it exits (Kubernetes' restartPolicy with its
   * crash-loop backoff, Docker's --restart): same task id, sandbox and allocation, a growing delay
   * between runs. Absent: the task ends when its process does. See cluster/restart-policy.ts.
   */
  restart?: RestartPolicy;
  /**
   * Tried by the agent beside the task while it runs (cluster/probes/probe-spec.ts): whether it is
   * healthy and whether it is ready, each reported to the master when it changes (TaskRecord.health,
   * .ready). The pool only reports them; the task's owner decides (an app replaces an unhealthy one).
   */
  health?: ProbeSpec;
  readiness?: ProbeSpec;
}

/** An image build (TaskSpec.build). Paths are relative and may not leave the workspace. */
export interface ImageBuildSpec {
  /** The build context, relative to the workspace ('.'). */
  context: string;
  /** The Dockerfile, relative to the context ('Dockerfile'). */
  dockerfile: string;
  /** The repository on the bundled registry, without its host (`team/web`). */
  repository: string;
  /** The tags pushed (at least one). */
  tags: string[];
  /** Build arguments (ARG). */
  args: Record<string, string>;
  /** The stage to build (`--target`). */
  target?: string;
  /** Labels the image gets (`--label`): a CI build's `org.opencontainers.image.revision` and `source`. */
  labels?: Record<string, string>;
}

/** An image assembled from files onto a base (TaskSpec.assemble). Paths are relative to the workspace. */
export interface ImageAssembleSpec {
  /** The base in the bundled registry: `team/base:1` or `team/base@sha256:…`. */
  from: string;
  files: Array<{ src: string; dest: string }>;
  entrypoint?: string[];
  cmd?: string[];
  env?: Record<string, string>;
  workdir?: string;
  /** The repository pushed to (`team/web`) and its tags. */
  repository: string;
  tags: string[];
  labels?: Record<string, string>;
  /** Every time in the image (SOURCE_DATE_EPOCH, seconds): a commit's time gives the same digest every build. */
  sourceDateEpoch: number;
}

/**
 * What a task produced beside its output, as its driver reported it when it ended. An image build
 * (TaskSpec.build): the image pushed, by digest.
 */
export interface TaskResult {
  /** `host:port/team/web@sha256:…`: the pushed image, pinned. */
  image?: string;
  /** `sha256:…`, the manifest's digest. */
  digest?: string;
  /** The tags it was pushed under. */
  tags?: string[];
}

export const RESTART_POLICIES = ['on-failure', 'always'] as const;
export type RestartPolicyName = (typeof RESTART_POLICIES)[number];

/**
 * When and how fast a task is restarted. The delay before restart n (1, 2, ...) since the last reset is
 * backoffMs × factor^(n−1), at most maxBackoffMs; a run that lasted resetAfterMs resets it to backoffMs.
 * A kill (by a user, an owner, the agent's shutdown) never restarts a task.
 */
export interface RestartPolicy {
  /** on-failure: after a non-zero exit, a signal or the OOM killer; always: after any exit. */
  policy: RestartPolicyName;
  backoffMs: number;
  factor: number;
  maxBackoffMs: number;
  resetAfterMs: number;
  /** Restarts in a row (without a reset) after which the task ends with its last exit; absent: no limit. */
  maxRestarts?: number;
}

/** The part of an agent's resources given to one task. */
export interface Allocation {
  /** The task's address: the hostname its agent registered with (set when the task is placed). */
  host?: string;
  cpus: number;
  mem: number;
  disk: number;
  gpus: number;
  /** Host ports, in the order the spec asked for them (PORT0, PORT1, ...): reach the task at host:port. */
  ports: number[];
  /** Custom resources actually granted, by kind. */
  scalars: Record<string, number>;
  ranges: Record<string, number[]>;
  sets: Record<string, string[]>;
}

export const TASK_STATES = ['queued', 'staging', 'running', 'finished', 'failed', 'killed', 'lost'] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set(['finished', 'failed', 'killed', 'lost']);
export const ACTIVE_STATES: ReadonlySet<TaskState> = new Set(['staging', 'running']);

export interface TaskRecord {
  id: string;
  spec: TaskSpec;
  state: TaskState;
  agentId: string | null;
  allocation: Allocation | null;
  exitCode: number | null;
  /** Why the task ended the way it did ("exited with 1", "killed by user", "memory limit 64 MiB exceeded"). */
  reason: string | null;
  /** While queued: why no agent takes it ("3 agents: 2 lacked mem (need 512, max free 256), 1 failed hostname:UNIQUE"). */
  waitingReason: string | null;
  /** What the driver could enforce ("cgroup v1: memory 64 MiB, cpu 0.5"; "not enforced: not running as root"). */
  limits: string | null;
  killRequested: boolean;
  createdAt: string;
  stagedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** Times its agent restarted it (TaskSpec.restart); 0 for a task without a restart policy. */
  restarts: number;
  /**
   * While it waits to be restarted: when it will run again (its agent holds it, `running`); null
   * otherwise. `exitCode` and `reason` then tell how its last run ended.
   */
  restartAt: string | null;
  /** What its health probe last said (TaskSpec.health); null without one, or before its first verdict. */
  health: 'healthy' | 'unhealthy' | null;
  /** What its readiness probe last said (TaskSpec.readiness); null without one. */
  ready: boolean | null;
  /** Why the last probe verdict is what it is ("health probe failed: GET http://...: ECONNREFUSED"). */
  probeMessage: string | null;
  /** What the task produced (an image build's digest); null for most tasks, and until it ended. */
  result: TaskResult | null;
  /**
   * On a container network (TaskSpec.network naming one): the task's own IP address there, as its agent
   * read it when the run started; reach it at that address on its container ports. Null otherwise, and
   * while a restarted task waits for its next run (the next run's container gets an address anew).
   */
  address: string | null;
  version: number;
}

/** `draining`: its tasks are being stopped and nothing new is placed on it, until it registers again. */
export const AGENT_STATES = ['ready', 'draining', 'unreachable', 'gone'] as const;
export type AgentState = (typeof AGENT_STATES)[number];

export interface AgentRecord {
  id: string;
  hostname: string;
  /** Total resources the agent offers to the pool. */
  resources: Resources;
  attributes: Attributes;
  state: AgentState;
  /** True for the agent running inside the server process. */
  embedded: boolean;
  drivers: string[];
  registeredAt: string;
  lastHeartbeatAt: string;
  version: number;
  /** What the agent last reported of its disk use (null until its first report). */
  diskUsage?: DiskUsage | null;
  /** The images its engine holds, as it last reported them (null: no report; agents without docker report none). */
  images?: string[] | null;
  /** The users its tasks may run as (TaskSpec.user), its default first, as it registered them. */
  taskUsers?: string[];
}

/** An agent's disk use, measured by the agent after each garbage collection round. */
export interface DiskUsage {
  /** Bytes under its task sandboxes (outputs, files the tasks wrote). */
  sandboxesBytes: number;
  /** Bytes in its containers' writable layers; null without the docker driver. */
  containersBytes: number | null;
  measuredAt: string;
}

/** A live view of an agent as placement sees it: what it has, what is still free. */
export interface AgentView {
  id: string;
  hostname: string;
  attributes: Attributes;
  total: Resources;
  free: Resources;
  /** The users the agent's tasks may run as (TaskSpec.user); absent: it takes only tasks naming none. */
  taskUsers?: readonly string[];
}
