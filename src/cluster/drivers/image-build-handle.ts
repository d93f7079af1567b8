// The handle of an image build (TaskSpec.build, a CI build step): the docker driver's engine builds
// the image from the task's workspace and pushes it to the bundled registry with the platform robot;
// no container of the task runs. The build's output is the task's output as it comes (the engine's
// build lines on stdout, pulls and pushes and the end on stderr), and its end carries the pushed
// digest (TaskExit.result) or the builder's own message (TaskExit.reason).
//
// Whatever the Dockerfile says runs in the engine's build containers, not on the agent: the agent
// itself only reads the context (build-context.ts keeps that read inside the workspace).
import type Dockerode from 'dockerode';
import type { ImageBuildSpec } from '../types.ts';
import { packBuildContext, BuildContextError } from './build-context.ts';
import { engineMessage, registryHostOfUrl } from './docker-pull.ts';
import type { RegistryCredentials, TaskExit } from './driver.ts';
import { InProcessHandle, KILLED } from './in-process-handle.ts';

/** One JSON message of the engine's build or push stream. */
interface EngineEvent {
  stream?: string;
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  aux?: { ID?: string; Tag?: string; Digest?: string; Size?: number };
  error?: string;
  errorDetail?: { message?: string };
}

/** Ends the build with the builder's (or the registry's) words. */
class BuildFailure extends Error {}

export interface ImageBuildLaunch {
  taskId: string;
  build: ImageBuildSpec;
  /** The workspace the context is read from. */
  workspace: string;
  registry: RegistryCredentials | undefined;
}

export class ImageBuildHandle extends InProcessHandle {
  readonly limits = 'none: the Docker engine builds (no container of the task runs)';
  /** The tags the engine gave the image it built (removed again when the push fails). */
  private tagged: string[] = [];

  constructor(
    private readonly docker: Dockerode,
    private readonly launch: ImageBuildLaunch,
  ) {
    super(launch.taskId);
    this.begin();
  }

  protected async run(): Promise<TaskExit> {
    try {
      const result = await this.buildAndPush();
      return { exitCode: 0, signal: null, oomKilled: false, killed: false, result };
    } catch (err) {
      if (this.abort.signal.aborted) return KILLED;
      const message = err instanceof BuildFailure || err instanceof BuildContextError ? err.message : `the build failed: ${engineMessage(err)}`;
      this.write('stderr', `gantry: ${message}\n`);
      // Built but not pushed: the tags go (the layers stay in the engine's cache for the next try).
      for (const tagged of this.tagged) await this.docker.getImage(tagged).remove({ noprune: true }).catch(() => undefined);
      return { exitCode: 1, signal: null, oomKilled: false, killed: false, reason: message };
    }
  }

  private async buildAndPush(): Promise<{ image: string; digest: string; tags: string[] }> {
    const { build, registry } = this.launch;
    const host = registry ? registryHostOfUrl(registry.url) : null;
    if (!registry || !host) throw new BuildFailure('this agent was given no registry to push to (the server hands it the bundled registry when it registers)');
    const repository = `${host}/${build.repository}`;
    const auth = { username: registry.username, password: registry.password, serveraddress: host };

    const packed = await packBuildContext({ root: this.launch.workspace, context: build.context, dockerfile: build.dockerfile });
    this.write('stderr', `gantry: building ${repository} from ${build.context} (${build.dockerfile})\n`);
    const started = Date.now();
    let imageId: string | undefined;
    const buildStream = (await this.docker.buildImage(packed.stream, {
      t: build.tags.map((tag) => `${repository}:${tag}`),
      dockerfile: packed.dockerfile,
      buildargs: build.args,
      ...(build.target !== undefined ? { target: build.target } : {}),
      // The robot pulls base images from the bundled registry (FROM <registry>/team/base).
      registryconfig: { [host]: { username: registry.username, password: registry.password } },
      labels: build.labels ?? {},
      forcerm: true,
      abortSignal: this.abort.signal,
      // Several `t` (an array is sent as repeated query parameters): one per tag.
    } as unknown as Dockerode.ImageBuildOptions).catch((err: unknown) => {
      // Unread, the packer would wait on it forever with files open.
      packed.stream.destroy();
      throw err;
    })) as NodeJS.ReadableStream;
    await Promise.all([
      packed.done.catch((err: unknown) => {
        (buildStream as NodeJS.ReadableStream & { destroy?: (err?: Error) => void }).destroy?.(err as Error);
        throw err;
      }),
      this.follow(buildStream, (event) => {
        if (event.stream !== undefined) this.write('stdout', event.stream);
        else if (event.status !== undefined && event.progressDetail?.current === undefined) this.write('stderr', `${event.id ? `${event.id}: ` : ''}${event.status}\n`);
        if (event.aux?.ID) imageId = event.aux.ID;
      }),
    ]);
    this.tagged = build.tags.map((tag) => `${repository}:${tag}`);
    if (!imageId) throw new BuildFailure('the engine ended the build without an image');
    this.write('stderr', `gantry: built ${imageId} in ${((Date.now() - started) / 1000).toFixed(1)} s; pushing ${build.tags.map((t) => `${repository}:${t}`).join(', ')}\n`);

    let digest: string | undefined;
    for (const tag of build.tags) {
      const pushStream = (await this.docker.getImage(repository).push({ tag, authconfig: auth, abortSignal: this.abort.signal } as Parameters<Dockerode.Image['push']>[0])) as NodeJS.ReadableStream;
      let pushed: string | undefined;
      await this.follow(pushStream, (event) => {
        if (event.aux?.Digest) pushed = event.aux.Digest;
        else if (event.status !== undefined && event.progressDetail?.current === undefined) this.write('stderr', `${event.id ? `${event.id}: ` : ''}${event.status}\n`);
      });
      if (!pushed) throw new BuildFailure(`the engine pushed ${repository}:${tag} without telling its digest`);
      // Every tag names the one image just built: a different digest means the tag moved under us.
      if (digest !== undefined && pushed !== digest) throw new BuildFailure(`${repository}:${tag} was pushed as ${pushed}, not ${digest}`);
      digest = pushed;
    }
    const image = `${repository}@${digest!}`;
    this.write('stderr', `gantry: pushed ${image}\n`);
    return { image, digest: digest!, tags: build.tags };
  }

  /** Reads the engine's JSON lines, failing with the first error event's message. */
  private follow(stream: NodeJS.ReadableStream, onEvent: (event: EngineEvent) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let failure: string | undefined;
      this.docker.modem.followProgress(
        stream,
        (err: Error | null) => {
          if (failure !== undefined) reject(new BuildFailure(failure));
          else if (err) reject(err);
          else resolve();
        },
        (event: EngineEvent) => {
          if (event.error !== undefined || event.errorDetail?.message !== undefined) failure ??= (event.errorDetail?.message ?? event.error)!.trim();
          else onEvent(event);
        },
      );
    });
  }
}
