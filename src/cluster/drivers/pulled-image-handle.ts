// The handle of a pull-only task (TaskSpec.pullOnly, used by `gantry images prewarm`): the docker
// driver pulled the image in start(), so the task has already ended when the agent gets its handle.
// Its output is the pull's progress (stderr) and one line saying what happened (stdout).
import { Readable } from 'node:stream';
import type { OutputChunk, TaskExit, TaskHandle } from './driver.ts';

const EXITED: TaskExit = { exitCode: 0, signal: null, oomKilled: false, killed: false };

export class PulledImageHandle implements TaskHandle {
  readonly limits = 'none: no container runs (pull only)';

  constructor(
    readonly taskId: string,
    private readonly image: string,
    private readonly pulled: boolean,
    private readonly progress: readonly string[],
  ) {}

  logs(): Readable {
    const chunks: OutputChunk[] = this.progress.map((line) => ({ stream: 'stderr', data: Buffer.from(`${line}\n`) }));
    chunks.push({ stream: 'stdout', data: Buffer.from(`${this.image} ${this.pulled ? 'pulled' : 'already present'}\n`) });
    return Readable.from(chunks);
  }

  wait(): Promise<TaskExit> {
    return Promise.resolve(EXITED);
  }

  kill(): Promise<TaskExit> {
    return Promise.resolve(EXITED);
  }

  async destroy(): Promise<void> {}
}
