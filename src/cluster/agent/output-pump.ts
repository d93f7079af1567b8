// Moves a task's output from its driver to the master in batches: at most every 100 ms or 64 KiB,
// retried until the master has it, numbered so that a retried batch is never stored twice. The task's
// secrets (TaskSpec.redact) are masked here, before any output leaves the agent, so they are never
// sent, stored or streamed.
import type { Readable } from 'node:stream';
import type { OutputChunk } from '../drivers/driver.ts';
import type { OutputBatch, OutputSoFar } from '../protocol.ts';
import { redactedOutput } from './redacted-output.ts';

const FLUSH_INTERVAL_MS = 100;
const FLUSH_BYTES = 64 * 1024;

export type SendBatch = (batch: OutputBatch) => Promise<void>;

/** What a pump delivered: the chunk count it numbered up to, and the bytes per stream it sent itself. */
export interface PumpResult {
  chunks: number;
  stdout: number;
  stderr: number;
}

/**
 * Resolves when the stream has ended and every chunk was accepted by the master. With `resume` (a
 * task recovered after an agent restart, whose output is read from its start again), the bytes the
 * master already holds are skipped per stream, after masking (what the master holds is masked), and
 * the chunks are numbered on from its count: nothing is stored twice, nothing is lost.
 */
export async function pumpOutput(
  taskId: string,
  output: Readable,
  send: SendBatch,
  isStopping: () => boolean,
  redact: readonly string[] = [],
  resume?: OutputSoFar,
): Promise<PumpResult> {
  let sent = resume?.chunks ?? 0;
  const delivered = { stdout: 0, stderr: 0 };
  const toSkip = { stdout: resume?.stdout ?? 0, stderr: resume?.stderr ?? 0 };
  let pending: OutputChunk[] = [];
  let pendingBytes = 0;
  let lastFlush = Date.now();

  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const batch: OutputBatch = { taskId, from: sent, chunks: pending };
    pending = [];
    pendingBytes = 0;
    await sendWithRetry(batch, send, isStopping);
    sent += batch.chunks.length;
    lastFlush = Date.now();
  };

  // A timer flushes quiet output; the loop below flushes busy output by size.
  let flushing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    if (Date.now() - lastFlush >= FLUSH_INTERVAL_MS) flushing = flushing.then(flush);
  }, FLUSH_INTERVAL_MS);
  try {
    for await (const masked of redactedOutput(output as AsyncIterable<OutputChunk>, redact)) {
      const skip = Math.min(toSkip[masked.stream], masked.data.length);
      toSkip[masked.stream] -= skip;
      if (skip === masked.data.length) continue;
      const chunk: OutputChunk = { stream: masked.stream, data: skip === 0 ? masked.data : masked.data.subarray(skip), at: Date.now() };
      pending.push(chunk);
      pendingBytes += chunk.data.length;
      delivered[chunk.stream] += chunk.data.length;
      if (pendingBytes >= FLUSH_BYTES) {
        flushing = flushing.then(flush);
        await flushing;
      }
    }
    clearInterval(timer);
    flushing = flushing.then(flush);
    await flushing;
  } finally {
    clearInterval(timer);
  }
  return { chunks: sent, ...delivered };
}

async function sendWithRetry(batch: OutputBatch, send: SendBatch, isStopping: () => boolean): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await send(batch);
      return;
    } catch (err) {
      if (isStopping() && attempt >= 3) throw err;
      await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
    }
  }
}
