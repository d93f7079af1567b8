// The Driver interface: how an agent runs one task. `exec` (processes + cgroups) and `docker`
// (dockerode) implement it; the agent picks one per task (a task with an image means docker).
// Modelled on Woodpecker's pipeline/backend/types/backend.go and Nomad's task drivers.
import type { Readable } from 'node:stream';
import type { Allocation, TaskResult, TaskSpec } from '../types.ts';
import type { TaskUsage } from './task-usage.ts';

export type { TaskUsage } from './task-usage.ts';

export interface TaskLaunch {
  taskId: string;
  spec: TaskSpec;
  allocation: Allocation;
  /** The task's own directory; the working directory unless `workingDir` is given. */
  sandboxDir: string;
  /** A directory shared with other tasks (a CI run's workspace), to run in instead of the sandbox. */
  workingDir?: string;
  /** The environment the task sees: spec.env plus GANTRY_TASK_ID, PORT0..n, PORTS, HOST. */
  env: Record<string, string>;
  /** The id of the agent running the task (docker: the `gantry.agent` label). */
  agentId?: string;
  /** The bundled registry's robot account (docker: used to pull images from that registry). */
  registry?: RegistryCredentials;
  /**
   * exec: the host user the task runs as (the agent resolved TaskSpec.user or its default task user).
   * Absent: the agent's own user. The docker driver ignores it (a container runs as its image's user,
   * or as TaskSpec.user when the task names one).
   */
  user?: TaskUser;
}

/** A user of the agent's host, as a task is switched to it. */
export interface TaskUser {
  name: string;
  uid: number;
  /** Its primary group. */
  gid: number;
  /** Its supplementary groups as `id -G` lists them (the primary one included), as a login gets them. */
  groups: number[];
  /**
   * The file mode mask its task starts with, when not the agent's own: a private uid's is 002, so that
   * what its tasks make outside their sandboxes (a job's runs appending to one file) stays writable by
   * the user's other tasks, through the group they share, as when they all had one uid. The sandbox
   * itself stays 0700: no other uid enters it.
   */
  umask?: number;
}

/** Credentials for one registry: its base URL (http://host:port) and an account on it. */
export interface RegistryCredentials {
  url: string;
  username: string;
  password: string;
}

export type OutputStream = 'stdout' | 'stderr';

/** One piece of a task's output, in the order it was produced on its stream. */
export interface OutputChunk {
  stream: OutputStream;
  data: Buffer;
  /**
   * When the agent read it (epoch ms), set by the agent's output pump: what lets the output of several
   * tasks (an app's instances) be merged by time. Absent in logs written before it was kept.
   */
  at?: number;
}

export interface TaskExit {
  /** The process's exit code, or null when it died from a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** True when the kernel killed it for exceeding its memory limit. */
  oomKilled: boolean;
  /** True when kill() was called before the task ended. */
  killed: boolean;
  /** What the task produced, when its driver knows (an image build: the pushed digest). */
  result?: TaskResult;
  /** The driver's own words on a failure, instead of "exited with code N" (an image build: the builder's message). */
  reason?: string;
}

export interface TaskHandle {
  readonly taskId: string;
  /** What the driver could enforce of the limits, said in the task record ("cgroup v1: memory 64 MiB, cpu 0.5 (quota)"). */
  readonly limits: string;
  /**
   * The task's own IP address on its container network (TaskSpec.network naming one), read by the
   * docker driver once the container started; the agent reports it with the run's `running` status.
   */
  readonly address?: string;
  /**
   * The task's output as an object-mode stream of OutputChunk, from the start, that ends after the task
   * has exited and all its output was read. Each call returns a new stream.
   */
  logs(): Readable;
  /** Resolves once when the task has exited (any number of callers get the same exit). */
  wait(): Promise<TaskExit>;
  /** SIGTERM to the whole process group, then SIGKILL to the group after graceMs. Resolves on exit. */
  kill(graceMs: number): Promise<TaskExit>;
  /** Frees what the driver holds for the task (cgroups, ...). Idempotent: a second call is a no-op. */
  destroy(): Promise<void>;
  /** What the task uses now (CPU time since it started, memory), when the driver can tell. */
  usage?(): Promise<TaskUsage>;
}

export interface Driver {
  readonly name: string;
  /** Whether the driver can run here (e.g. docker needs an engine). */
  available(): Promise<boolean>;
  start(launch: TaskLaunch): Promise<TaskHandle>;
  /** After an agent restart: handles for the tasks still running from the sandboxes under `sandboxRoot`. */
  recover(sandboxRoot: string): Promise<TaskHandle[]>;
  /**
   * Removes what ended tasks left behind past its delay, and leftovers of tasks nobody knows (the docker
   * driver's exited and orphaned containers). `known`: the agent's tasks, never touched. Returns a
   * line for each thing removed.
   */
  collectGarbage?(sandboxRoot: string, known: ReadonlySet<string>): Promise<string[]>;
  /**
   * The images the driver's engine holds, as it names them (tags `repo:tag` and digests `repo@sha256:…`,
   * see image-reference.ts canonicalImageName): the agent reports them for placement and pre-warming.
   */
  images?(): Promise<string[]>;
  /**
   * Runs a command inside a running task's own environment (the docker driver: `docker exec` in its
   * container), for command probes: its exit code (null past timeoutMs) and the end of its output.
   */
  execIn?(taskId: string, argv: string[], timeoutMs: number): Promise<{ exitCode: number | null; output: string }>;
  /** Disk the driver uses outside the sandboxes for this agent's tasks (the docker driver: containers' writable layers), in bytes. */
  diskUsage?(sandboxRoot: string): Promise<number>;
}
