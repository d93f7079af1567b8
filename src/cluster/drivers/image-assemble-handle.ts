// The handle of an image assembled without an engine (TaskSpec.assemble, a CI build step with
// `from:`): the agent itself puts the workspace's files onto the base image as one reproducible layer
// and pushes what the registry lacks (cluster/image-builder), with the platform robot. Any agent can
// do it; the progress is the task's stderr, the pushed digest its result.
import { buildImage } from '../image-builder/index.ts';
import { GantryError, Unavailable } from '../../shared/errors.ts';
import type { ImageAssembleSpec } from '../types.ts';
import { registryHostOfUrl } from './docker-pull.ts';
import type { RegistryCredentials, TaskExit } from './driver.ts';
import { InProcessHandle, KILLED } from './in-process-handle.ts';

export class ImageAssembleHandle extends InProcessHandle {
  readonly limits = 'none: the agent assembles the image itself (no process of the task runs)';

  constructor(
    taskId: string,
    private readonly spec: ImageAssembleSpec,
    private readonly workspace: string,
    private readonly registry: RegistryCredentials | undefined,
  ) {
    super(taskId);
    this.begin();
  }

  protected async run(signal: AbortSignal): Promise<TaskExit> {
    const { spec, registry } = this;
    try {
      const host = registry ? registryHostOfUrl(registry.url) : null;
      if (!registry || !host) throw new Unavailable('this agent was given no registry to push to (the server hands it the bundled registry when it registers)');
      this.write('stderr', `gantry: assembling ${host}/${spec.repository} from ${spec.from} (${spec.files.length} ${spec.files.length === 1 ? 'copy' : 'copies'})\n`);
      const built = await buildImage({
        registry: { url: registry.url, username: registry.username, password: registry.password },
        from: spec.from,
        image: spec.repository,
        tags: spec.tags,
        root: this.workspace,
        files: spec.files,
        ...(spec.entrypoint ? { entrypoint: spec.entrypoint } : {}),
        ...(spec.cmd ? { cmd: spec.cmd } : {}),
        ...(spec.env ? { env: spec.env } : {}),
        ...(spec.workdir ? { workdir: spec.workdir } : {}),
        ...(spec.labels ? { labels: spec.labels } : {}),
        sourceDateEpoch: spec.sourceDateEpoch,
        progress: (line) => this.write('stderr', `${line}\n`),
      });
      if (signal.aborted) return KILLED;
      return { exitCode: 0, signal: null, oomKilled: false, killed: false, result: { image: built.image, digest: built.digest, tags: [...spec.tags] } };
    } catch (err) {
      if (signal.aborted) return KILLED;
      const message = err instanceof GantryError ? err.message : `the image could not be assembled: ${(err as Error).message}`;
      this.write('stderr', `gantry: ${message}\n`);
      return { exitCode: 1, signal: null, oomKilled: false, killed: false, reason: message };
    }
  }
}
