// The docker driver: runs a task with an image (TaskSpec.image) as a container, through dockerode.
//
// start(): the image is pulled when the engine lacks it, or always with TaskSpec.forcePull
// (docker-pull.ts: the bundled registry's robot account for images on that registry); a failed pull
// fails the start with the engine's message. The pull's progress is kept in the sandbox
// (`image-pull.log`) and is the beginning of the task's stderr output, lines starting `gantry: pull`:
// the task's log and its events (SSE) carry it; it arrives once the container started, since the
// agent streams output only from a running task. Then the container is created (docker-create.ts:
// limits, environment, labels, network (bridge: each allocated host port published from the same
// port inside), sandbox mount, command) and started. A container left from an earlier launch of the
// same task that is not running is replaced; a running one is an error (recover() should have it).
//
// Output, exit, kill: docker-task-handle.ts and docker-output.ts (the engine's log of the container,
// read from the start by every logs() call).
//
// destroy(), which the agent calls once the task's exit and output were reported (the master keeps the
// output by then), marks the container reported; the exited container stays for `keepExitedMs`
// (default 10 minutes; 0 removes it in destroy()) and then the container GC (collectGarbage, run by
// the agent; docker-gc.ts) removes it, with orphans that carry Gantry's labels.
//
// A task on a container network (TaskSpec.network naming one; docker-networks.ts): the network is made
// on first use, before the container is created attached to it, and the container's IP address there
// is read after its start (TaskHandle.address, reported with the run's `running` status). The network
// goes once no task uses it: when a task on it ended, and in collectGarbage for what is left over.
//
// An image build (TaskSpec.build) runs no container: image-build-handle.ts builds and pushes.
//
// recover(): the containers labelled with a sandbox directly under the given sandbox root (this
// agent's, even when several agents share one engine) become handles again: running ones, and also
// those that exited while no agent ran, so that their exit code and output are still reported; not
// those already reported (kept for the GC). Containers created but never started are removed (the
// task's launch will come again). A running container on a container network keeps its address: it is
// read again.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Dockerode from 'dockerode';
import { namedNetworkOf } from '../container-network.ts';
import type { Driver, TaskHandle, TaskLaunch } from './driver.ts';
import { execInContainer, type ExecResult } from './docker-exec.ts';
import { containerCreateOptions, containerName, describeLimits, LABEL_SANDBOX, LABEL_TASK } from './docker-create.ts';
import { DEFAULT_PULL_STALL_MS, engineMessage, ensureImage } from './docker-pull.ts';
import { PulledImageHandle } from './pulled-image-handle.ts';
import { ImageBuildHandle } from './image-build-handle.ts';
import { DockerTaskHandle } from './docker-task-handle.ts';
import { collectContainers, containersDiskUsage, pruneDanglingImages, REPORTED_MARKER } from './docker-gc.ts';
import { addressOn, DockerNetworks, LABEL_NETWORK } from './docker-networks.ts';

export interface DockerDriverOptions {
  /** The engine's client; default: from DOCKER_HOST, else /var/run/docker.sock. */
  docker?: Dockerode;
  /** The most processes a container may have (0: unlimited). Default 4096. */
  pidsLimit?: number;
  /** Run the engine's init as PID 1 (default true; see docker-create.ts). */
  init?: boolean;
  /** A pull silent for this long fails (default 5 minutes). */
  pullStallMs?: number;
  /** How long an exited container is kept after its end was reported (default 10 minutes; 0: removed at once). */
  keepExitedMs?: number;
  /** Dangling images older than this are pruned by collectGarbage (at most hourly); default: never. */
  pruneImagesAfterMs?: number;
  log?: (msg: string) => void;
}

export const DEFAULT_KEEP_EXITED_MS = 10 * 60_000;
/** Dangling images are looked for at most this often (a prune walks every image of the engine). */
const IMAGE_PRUNE_INTERVAL_MS = 60 * 60_000;

export const DEFAULT_PIDS_LIMIT = 4096;
export const PULL_LOG_FILE = 'image-pull.log';

export class DockerDriver implements Driver {
  readonly name = 'docker';
  readonly docker: Dockerode;
  /** The container networks of this driver's tasks. */
  readonly networks: DockerNetworks;
  private readonly log: (msg: string) => void;
  private lastImagePrune = 0;

  constructor(private readonly options: DockerDriverOptions = {}) {
    this.docker = options.docker ?? new Dockerode();
    this.log = options.log ?? (() => undefined);
    this.networks = new DockerNetworks(this.docker, this.log);
  }

  async available(): Promise<boolean> {
    return (await this.engineVersion()) !== null;
  }

  /** The engine's version, or null when none answers within `timeoutMs`. */
  async engineVersion(timeoutMs = 3000): Promise<string | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    try {
      const version = this.docker.version().then(
        (v) => v.Version,
        () => null,
      );
      return await Promise.race([version, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async start(launch: TaskLaunch): Promise<TaskHandle> {
    const { spec } = launch;
    if (spec.build) {
      if (!launch.workingDir) throw new Error('an image build needs a workspace to build from');
      return new ImageBuildHandle(this.docker, { taskId: launch.taskId, build: spec.build, workspace: path.resolve(launch.workingDir), registry: launch.registry });
    }
    if (!spec.image) throw new Error('the docker driver runs tasks that name an image');
    const sandboxDir = path.resolve(launch.sandboxDir);
    await mkdir(sandboxDir, { recursive: true });
    if (launch.workingDir) await mkdir(path.resolve(launch.workingDir), { recursive: true });

    const ensured = await ensureImage(this.docker, spec.image, {
      forcePull: spec.forcePull === true,
      registry: launch.registry,
      stallMs: this.options.pullStallMs ?? DEFAULT_PULL_STALL_MS,
    });
    await writeFile(path.join(sandboxDir, PULL_LOG_FILE), ensured.progress.map((line) => `${line}\n`).join(''));
    if (spec.pullOnly) return new PulledImageHandle(launch.taskId, ensured.image, ensured.pulled, ensured.progress);

    const createOptions = containerCreateOptions(launch, {
      image: ensured.image,
      pidsLimit: this.options.pidsLimit ?? DEFAULT_PIDS_LIMIT,
      init: this.options.init ?? true,
    });
    // On a container network: attached by the network's id (docker-networks.ts says why).
    const run = async (networkId?: string) => {
      const options = networkId === undefined ? createOptions : { ...createOptions, HostConfig: { ...createOptions.HostConfig, NetworkMode: networkId } };
      const { container, warnings } = await this.create(launch.taskId, options);
      // Pulled and created ahead; started at its instant (TaskSpec.startAt).
      const untilStart = spec.startAt ? Date.parse(spec.startAt) - Date.now() : 0;
      if (untilStart > 0) await new Promise((resolve) => setTimeout(resolve, untilStart));
      try {
        await container.start();
      } catch (err) {
        await container.remove({ force: true, v: true }).catch(() => undefined);
        throw new Error(`cannot start the container: ${engineMessage(err)}`);
      }
      return { container, warnings, inspected: await container.inspect().catch(() => null) };
    };
    const network = namedNetworkOf(spec);
    const { container, warnings, inspected } =
      network === null
        ? await run()
        : await this.networks.using(network, (id) => run(id)).catch(async (err: unknown) => {
            await this.networks.release(network).catch(() => undefined); // made for this task only, maybe
            throw err;
          });
    const address = network === null ? undefined : addressOn(inspected, network);
    if (network !== null && address === undefined) this.log(`docker driver: task ${launch.taskId}: no address on container network ${network}; it is reached at its host ports only`);
    return new DockerTaskHandle({
      taskId: launch.taskId,
      limits: describeLimits(createOptions.HostConfig, warnings),
      container,
      stopSignal: stopSignalOf(inspected),
      preamble: ensured.progress,
      sandboxDir,
      keepExited: this.keepExitedMs > 0,
      address,
      ...this.networkRelease(network),
      log: this.log,
    });
  }

  /** What a handle on a container network calls once it is destroyed: the network goes if unused. */
  private networkRelease(network: string | null | undefined): { released?: () => Promise<void> } {
    return network ? { released: () => this.networks.release(network) } : {};
  }

  private get keepExitedMs(): number {
    return this.options.keepExitedMs ?? DEFAULT_KEEP_EXITED_MS;
  }

  /**
   * Removes exited containers past their delay and orphans, container networks no container is attached
   * to (docker-networks.ts), and (when configured, at most hourly) dangling images past their age
   * (docker-gc.ts); says what it removed.
   */
  async collectGarbage(sandboxRoot: string, known: ReadonlySet<string>): Promise<string[]> {
    const removed = await collectContainers(this.docker, { sandboxRoot, known, keepExitedMs: this.keepExitedMs }, this.log);
    const lines = removed.map((r) => `container ${r.id.slice(0, 12)} of task ${r.taskId} (${r.why})`);
    // After the containers: an orphan removed above may have been the last one on its network.
    lines.push(...(await this.networks.collect()));
    const pruneAfter = this.options.pruneImagesAfterMs;
    if (pruneAfter !== undefined && Date.now() - this.lastImagePrune >= IMAGE_PRUNE_INTERVAL_MS) {
      this.lastImagePrune = Date.now();
      const pruned = await pruneDanglingImages(this.docker, pruneAfter);
      if (pruned.count > 0) lines.push(`${pruned.count} dangling image(s), ${pruned.bytes} bytes`);
    }
    return lines;
  }

  async images(): Promise<string[]> {
    const names = new Set<string>();
    for (const image of await this.docker.listImages()) {
      for (const name of [...(image.RepoTags ?? []), ...(image.RepoDigests ?? [])]) {
        if (!name.startsWith('<none>')) names.add(name);
      }
    }
    return [...names].sort();
  }

  execIn(taskId: string, argv: string[], timeoutMs: number): Promise<ExecResult> {
    return execInContainer(this.docker, taskId, argv, timeoutMs);
  }

  /** Bytes in the writable layers of this agent's containers. */
  diskUsage(sandboxRoot: string): Promise<number> {
    return containersDiskUsage(this.docker, sandboxRoot);
  }

  /** Creates the task's container, replacing a stopped one of the same name left by an earlier launch. */
  private async create(taskId: string, options: Dockerode.ContainerCreateOptions): Promise<{ container: Dockerode.Container; warnings: string[] }> {
    for (let attempt = 0; ; attempt++) {
      try {
        const created = await this.createRaw(options);
        const warnings = (created.Warnings ?? []).filter((w) => w.trim().length > 0);
        return { container: this.docker.getContainer(created.Id), warnings };
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 409 || attempt > 0) {
          throw new Error(`cannot create the container: ${engineMessage(err)}`);
        }
        const old = this.docker.getContainer(containerName(taskId));
        const state = await old.inspect().then((i) => i.State, () => null);
        if (state?.Running) throw new Error(`task ${taskId} already has a running container`);
        this.log(`docker driver: removing the stopped container left by an earlier launch of task ${taskId}`);
        await old.remove({ force: true, v: true }).catch(() => undefined);
      }
    }
  }

  /** POST /containers/create as dockerode's createContainer does, keeping the engine's Warnings it drops. */
  private createRaw(options: Dockerode.ContainerCreateOptions): Promise<{ Id: string; Warnings?: string[] | null }> {
    return new Promise((resolve, reject) => {
      this.docker.modem.dial(
        {
          path: '/containers/create?',
          method: 'POST',
          options: { ...options },
          statusCodes: { 200: true, 201: true, 400: 'bad parameter', 404: 'no such image', 409: 'conflict', 500: 'server error' },
        },
        (err: unknown, data: unknown) => (err ? reject(err) : resolve(data as { Id: string; Warnings?: string[] | null })),
      );
    });
  }

  async recover(sandboxRoot: string): Promise<TaskHandle[]> {
    const root = path.resolve(sandboxRoot);
    let listed: Dockerode.ContainerInfo[];
    try {
      listed = await this.docker.listContainers({ all: true, filters: { label: [LABEL_TASK, LABEL_SANDBOX] } });
    } catch (err) {
      this.log(`docker driver: cannot list containers to recover: ${engineMessage(err)}`);
      return [];
    }
    const handles: TaskHandle[] = [];
    for (const info of listed) {
      const taskId = info.Labels[LABEL_TASK];
      const sandboxDir = info.Labels[LABEL_SANDBOX];
      if (!taskId || !sandboxDir || path.dirname(sandboxDir) !== root) continue;
      const container = this.docker.getContainer(info.Id);
      if (info.State === 'created') {
        await container.remove({ force: true, v: true }).catch(() => undefined);
        continue;
      }
      const inspected = await container.inspect().catch(() => null);
      if (!inspected) continue;
      const marker = await readFile(path.join(sandboxDir, REPORTED_MARKER), 'utf8').catch(() => null);
      if (marker?.trim() === info.Id) continue; // its end was reported: the GC's now
      const preamble = (await readFile(path.join(sandboxDir, PULL_LOG_FILE), 'utf8').catch(() => '')).split('\n').filter((line) => line.length > 0);
      const network = info.Labels[LABEL_NETWORK];
      handles.push(
        new DockerTaskHandle({
          taskId,
          limits: describeLimits(inspected.HostConfig),
          container,
          stopSignal: stopSignalOf(inspected),
          preamble,
          sandboxDir,
          keepExited: this.keepExitedMs > 0,
          address: network && inspected.State.Running ? addressOn(inspected, network) : undefined,
          ...this.networkRelease(network),
          log: this.log,
        }),
      );
    }
    return handles;
  }
}

/** The image's STOPSIGNAL as the container records it (the types leave the field out). */
function stopSignalOf(inspected: Dockerode.ContainerInspectInfo | null): string | undefined {
  const signal = (inspected?.Config as { StopSignal?: unknown } | undefined)?.StopSignal;
  return typeof signal === 'string' && signal.length > 0 ? signal : undefined;
}

export function createDockerDriver(options: DockerDriverOptions = {}): DockerDriver {
  return new DockerDriver(options);
}

/** A docker driver when an engine answers (and its version), else null: agents add it only then. */
export async function detectDockerDriver(options: DockerDriverOptions = {}): Promise<{ driver: DockerDriver; version: string } | null> {
  const driver = new DockerDriver(options);
  const version = await driver.engineVersion();
  return version === null ? null : { driver, version };
}
