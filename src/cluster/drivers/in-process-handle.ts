// A task the agent carries out itself instead of a process or container (an image build through the
// engine's API, an image assembled by the daemonless builder): its output kept as it is written and
// replayed from the start to every logs() reader, its end one promise, a kill an abort. Subclasses
// give run(); what they write is the task's output.
import { Readable } from 'node:stream';
import type { OutputChunk, OutputStream, TaskExit, TaskHandle } from './driver.ts';

export abstract class InProcessHandle implements TaskHandle {
  abstract readonly limits: string;
  private readonly chunks: OutputChunk[] = [];
  private readonly listeners = new Set<() => void>();
  private ended = false;
  private exit: Promise<TaskExit> | undefined;
  protected readonly abort = new AbortController();

  constructor(readonly taskId: string) {}

  /** Starts the work; called once by the subclass's constructor, after its own fields are set. */
  protected begin(): void {
    this.exit = this.run(this.abort.signal).then((exit) => {
      this.ended = true;
      this.notify();
      return exit;
    });
  }

  /** The work; aborted by kill(). Resolves with how the task ended. */
  protected abstract run(signal: AbortSignal): Promise<TaskExit>;

  logs(): Readable {
    let next = 0;
    const handle = this;
    return Readable.from(
      (async function* () {
        for (;;) {
          while (next < handle.chunks.length) yield handle.chunks[next++]!;
          if (handle.ended) return;
          await new Promise<void>((resolve) => {
            const wake = (): void => {
              handle.listeners.delete(wake);
              resolve();
            };
            handle.listeners.add(wake);
          });
        }
      })(),
    );
  }

  wait(): Promise<TaskExit> {
    return this.exit!;
  }

  kill(): Promise<TaskExit> {
    this.abort.abort();
    return this.exit!;
  }

  async destroy(): Promise<void> {}

  protected write(stream: OutputStream, text: string): void {
    if (text.length === 0) return;
    this.chunks.push({ stream, data: Buffer.from(text) });
    this.notify();
  }

  private notify(): void {
    for (const wake of [...this.listeners]) wake();
  }
}

export const KILLED: TaskExit = { exitCode: null, signal: 'SIGTERM', oomKilled: false, killed: true };
