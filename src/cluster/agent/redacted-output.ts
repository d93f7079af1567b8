// A task's output with its secrets (TaskSpec.redact) masked, on the agent, before it is sent anywhere:
// one StreamRedactor per stream (stdout and stderr are separate streams; a secret is never split
// between them). The redactor holds back a tail that may be the start of a secret; when the task then
// stays quiet for `quietFlushMs` the tail is released, so a prompt or a progress line is not stuck.
import type { OutputChunk, OutputStream } from '../drivers/driver.ts';
import { StreamRedactor } from '../../shared/redactor.ts';

/**
 * Long enough that a program printing one value is practically never paused inside it (a flush in the
 * middle of a secret cannot mask it), short enough to look live.
 */
export const QUIET_FLUSH_MS = 500;

const QUIET = Symbol('quiet');

export async function* redactedOutput(
  chunks: AsyncIterable<OutputChunk>,
  values: readonly string[],
  quietFlushMs = QUIET_FLUSH_MS,
): AsyncGenerator<OutputChunk> {
  const redactors: Record<OutputStream, StreamRedactor> = { stdout: new StreamRedactor(values), stderr: new StreamRedactor(values) };
  if (!redactors.stdout.active) {
    yield* chunks;
    return;
  }
  const flushAll = function* (): Generator<OutputChunk> {
    for (const stream of ['stdout', 'stderr'] as const) {
      const data = redactors[stream].flush();
      if (data.length > 0) yield { stream, data };
    }
  };
  const source = chunks[Symbol.asyncIterator]();
  let next = source.next();
  try {
    for (;;) {
      const holding = redactors.stdout.held > 0 || redactors.stderr.held > 0;
      const result = holding ? await raceWithQuiet(next, quietFlushMs) : await next;
      if (result === QUIET) {
        yield* flushAll();
        continue;
      }
      if (result.done) break;
      next = source.next();
      const chunk = result.value;
      const data = redactors[chunk.stream].push(chunk.data);
      if (data.length > 0) yield { stream: chunk.stream, data };
    }
    yield* flushAll();
  } finally {
    // Stopped early (the pump gave up): a read may still be in flight; its failure is of no interest.
    next.catch(() => undefined);
    await source.return?.();
  }
}

/** The next chunk, or QUIET when none came within `ms`. */
async function raceWithQuiet<T>(next: Promise<T>, ms: number): Promise<T | typeof QUIET> {
  let timer: NodeJS.Timeout | undefined;
  const quiet = new Promise<typeof QUIET>((resolve) => {
    timer = setTimeout(() => resolve(QUIET), ms);
  });
  try {
    return await Promise.race([next, quiet]);
  } finally {
    clearTimeout(timer);
  }
}
