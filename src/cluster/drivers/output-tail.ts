// Follows a task's output files (`stdout`, `stderr` in its sandbox) like `tail -f`, from the start, as
// an object-mode stream of OutputChunk. The task writes the files itself, so this reader only polls
// them and can start, stop and run many times over without ever holding the task back. It polls every
// `pollMs` (50 ms) while output comes, backing off to `quietPollMs` (400 ms) while none does: an agent
// tails every task it runs, and a hundred quiet services polled at 50 ms were thousands of reads a
// second for nothing. The read buffer is the tail's own, reused: only bytes read are copied out. The
// stream ends once `finished` has resolved (nothing writes any more) and one more pass over every file
// found no new bytes. Backpressure: it reads on when asked.
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { OutputChunk, OutputStream } from './driver.ts';
import { openOwnFile } from './own-file.ts';

export interface TailSource {
  stream: OutputStream;
  path: string;
}

export interface TailOptions {
  pollMs?: number;
  /** The longest wait between polls once the files have been quiet for a while. */
  quietPollMs?: number;
  chunkSize?: number;
}

interface TailedFile extends TailSource {
  handle: FileHandle | null;
  position: number;
}

export function tailOutput(sources: readonly TailSource[], finished: Promise<unknown>, options: TailOptions = {}): Readable {
  const pollMs = options.pollMs ?? 50;
  const quietPollMs = Math.max(pollMs, options.quietPollMs ?? 400);
  const chunkSize = options.chunkSize ?? 64 * 1024;
  const buffer = Buffer.allocUnsafe(chunkSize);
  /** Polls in a row that found nothing: each doubles the wait, up to quietPollMs. */
  let quietPolls = 0;
  const files: TailedFile[] = sources.map((s) => ({ ...s, handle: null, position: 0 }));
  let done = false;
  let closed = false;
  let started = false;
  let demand = false;
  let wakeSleeper: (() => void) | null = null;
  let wakeReader: (() => void) | null = null;

  const wakeAll = () => {
    wakeSleeper?.();
    wakeReader?.();
  };
  const settle = () => {
    done = true;
    wakeAll();
  };
  finished.then(settle, settle);

  const sleepOrWake = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wakeSleeper = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      wakeSleeper = null;
    });
  const waitForDemand = () =>
    new Promise<void>((resolve) => {
      wakeReader = resolve;
    }).finally(() => {
      wakeReader = null;
    });

  async function readChunk(file: TailedFile): Promise<Buffer | null> {
    if (!file.handle) {
      try {
        // The agent's own file only: the sandbox may be the task user's, who could put a link there.
        file.handle = await openOwnFile(file.path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null; // not created yet
        throw err;
      }
    }
    const { bytesRead } = await file.handle.read(buffer, 0, chunkSize, file.position);
    if (bytesRead === 0) return null;
    file.position += bytesRead;
    return Buffer.from(buffer.subarray(0, bytesRead));
  }

  async function pump(): Promise<void> {
    try {
      for (;;) {
        const finalPass = done; // nothing writes any more: a pass without new bytes is the end
        let progressed = false;
        for (const file of files) {
          if (closed) return;
          const data = await readChunk(file);
          if (!data || closed) continue;
          progressed = true;
          demand = false;
          const chunk: OutputChunk = { stream: file.stream, data };
          if (!stream.push(chunk) && !demand) await waitForDemand();
        }
        if (closed) return;
        quietPolls = progressed ? 0 : quietPolls + 1;
        if (!progressed) {
          if (finalPass) {
            stream.push(null);
            return;
          }
          // `finished` may have settled during this pass, after it was read above: its wake-up found no
          // sleeper then, so go straight to the final pass instead of sleeping a whole poll first.
          if (!done) await sleepOrWake(Math.min(quietPollMs, pollMs * 2 ** Math.min(quietPolls - 1, 10)));
        }
      }
    } finally {
      await Promise.all(files.map((f) => f.handle?.close().catch(() => undefined)));
    }
  }

  const stream = new Readable({
    objectMode: true,
    read() {
      demand = true;
      wakeReader?.();
      if (!started) {
        started = true;
        pump().catch((err: Error) => stream.destroy(err));
      }
    },
    destroy(err, callback) {
      closed = true;
      wakeAll();
      callback(err);
    },
  });
  return stream;
}
