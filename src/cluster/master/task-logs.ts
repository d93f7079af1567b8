// Task output as the master keeps it: one file per task under <dataDir>/logs, one JSON line per chunk
// ({"s":"stdout","d":"text"} or {"s":"stderr","b":"base64"} when the bytes are not valid UTF-8), so
// the order of stdout and stderr is kept and readers can follow a file while the task runs.
// A chunk's place in the file is its identity for readers: the offset just after its line is where a
// reader that got it resumes (SSE's Last-Event-ID), with no gap and no duplicate.
import { EventEmitter } from 'node:events';
import { appendFile, mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Invalid } from '../../shared/errors.ts';
import { utf8Text } from '../../shared/utf8.ts';
import type { OutputChunk, OutputStream } from '../drivers/driver.ts';
import { completeLines, countLines } from './log-lines.ts';

interface StoredLine {
  s: OutputStream;
  d?: string;
  b?: string;
}

export interface ReadOptions {
  follow: boolean;
  /** Whether the task has ended and will write no more output; checked when the file is drained. */
  isComplete: () => Promise<boolean>;
  signal?: AbortSignal;
  /** Where to start in the task's file: 0 (the default) or the `endOffset` of a chunk read before. */
  fromOffset?: number;
}

/** A chunk as read back, with where it ends in the task's file: give that as `fromOffset` to resume after it. */
export interface StoredChunk extends OutputChunk {
  endOffset: number;
}

export class TaskLogStore {
  private readonly appended = new EventEmitter();
  /** Chunks already in each task's file, so that an agent's retried batch is not written twice. */
  private readonly chunkCounts = new Map<string, number>();
  /** Serialises appends per task (a retry may race with the original request). */
  private readonly appendQueues = new Map<string, Promise<void>>();

  constructor(private readonly dir: string) {
    this.appended.setMaxListeners(0);
  }

  fileOf(taskId: string): string {
    if (!/^[A-Za-z0-9._-]+$/.test(taskId)) throw new Error(`unsafe task id ${taskId}`);
    return path.join(this.dir, `${taskId}.jsonl`);
  }

  /**
   * Appends a batch that starts at chunk number `from` of the task's output. Chunks the file already
   * holds are skipped, which makes agents' retries idempotent.
   */
  append(taskId: string, from: number, chunks: readonly OutputChunk[]): Promise<void> {
    const previous = this.appendQueues.get(taskId) ?? Promise.resolve();
    const next = previous.then(() => this.appendNow(taskId, from, chunks));
    this.appendQueues.set(taskId, next.catch(() => undefined));
    return next;
  }

  private async appendNow(taskId: string, from: number, chunks: readonly OutputChunk[]): Promise<void> {
    const have = await this.chunkCount(taskId);
    const fresh = chunks.slice(Math.max(0, have - from));
    if (from > have) throw new Error(`output of ${taskId} has ${have} chunks; a batch from ${from} would leave a gap`);
    if (fresh.length === 0) return;
    const text = fresh.map((chunk) => JSON.stringify(encodeChunk(chunk)) + '\n').join('');
    await mkdir(this.dir, { recursive: true });
    await appendFile(this.fileOf(taskId), text);
    this.chunkCounts.set(taskId, have + fresh.length);
    this.appended.emit(taskId);
  }

  /** Forgets the per-task counters of a finished task (its file stays). */
  forget(taskId: string): void {
    this.chunkCounts.delete(taskId);
    this.appendQueues.delete(taskId);
    this.appended.emit(taskId);
  }

  /** Wakes followers of a task, e.g. when it ended without output. */
  notify(taskId: string): void {
    this.appended.emit(taskId);
  }

  private async chunkCount(taskId: string): Promise<number> {
    const known = this.chunkCounts.get(taskId);
    if (known !== undefined) return known;
    const file = await openIfExists(this.fileOf(taskId));
    let count = 0;
    if (file) {
      try {
        count = await countLines(file);
      } finally {
        await file.close();
      }
    }
    this.chunkCounts.set(taskId, count);
    return count;
  }

  /** How much output of the task the file holds: chunks, and bytes per stream. Reads the whole file. */
  async outputSoFar(taskId: string): Promise<{ chunks: number; stdout: number; stderr: number }> {
    const totals = { chunks: 0, stdout: 0, stderr: 0 };
    await this.appendQueues.get(taskId); // a batch being written counts
    for await (const chunk of this.read(taskId, { follow: false, isComplete: async () => true })) {
      totals.chunks++;
      totals[chunk.stream] += chunk.data.length;
    }
    return totals;
  }

  /** Throws Invalid unless `offset` is 0 or where a chunk of the task's file ends (what read() would accept). */
  async checkResumeOffset(taskId: string, offset: number): Promise<void> {
    if (offset === 0) return;
    const file = await openIfExists(this.fileOf(taskId));
    try {
      await checkChunkBoundary(file, offset);
    } finally {
      await file?.close();
    }
  }

  /**
   * The task's output from `fromOffset` (the start by default), read in bounded pieces; with follow,
   * keeps reading until the task is complete. Throws Invalid when `fromOffset` is not where a chunk ends.
   */
  async *read(taskId: string, options: ReadOptions): AsyncGenerator<StoredChunk> {
    const logFile = this.fileOf(taskId);
    let offset = options.fromOffset ?? 0;
    /** How far the file has been looked at: a line still being written lies between offset and here. */
    let scanned = offset;
    let file: FileHandle | null = null;
    try {
      if (offset !== 0) {
        file = await openIfExists(logFile);
        await checkChunkBoundary(file, offset);
      }
      for (;;) {
        if (options.signal?.aborted) return;
        // Ask before reading: whatever was appended before the task completed is then read below.
        const complete = options.follow ? await options.isComplete() : true;
        const woken = options.follow ? this.nextAppend(taskId, options.signal) : null;
        const size = await fileSize(logFile);
        if (size > scanned) {
          file ??= await open(logFile, 'r');
          for await (const line of completeLines(file, offset, size)) {
            yield { ...decodeChunk(JSON.parse(line.bytes.toString('utf8')) as StoredLine), endOffset: line.endOffset };
            offset = line.endOffset;
            if (options.signal?.aborted) return;
          }
          scanned = size;
          continue;
        }
        if (complete) return;
        await woken;
      }
    } finally {
      await file?.close();
    }
  }

  /** Resolves on the next append for the task, after 1 s at the latest (the task may end silently). */
  private nextAppend(taskId: string, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.appended.off(taskId, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, 1000);
      this.appended.on(taskId, done);
      signal?.addEventListener('abort', done);
    });
  }
}

function encodeChunk(chunk: OutputChunk): StoredLine {
  const text = utf8Text(chunk.data);
  return text !== null ? { s: chunk.stream, d: text } : { s: chunk.stream, b: chunk.data.toString('base64') };
}

function decodeChunk(line: StoredLine): OutputChunk {
  return { stream: line.s, data: line.b !== undefined ? Buffer.from(line.b, 'base64') : Buffer.from(line.d ?? '', 'utf8') };
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

async function openIfExists(file: string): Promise<FileHandle | null> {
  try {
    return await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** A resume offset must be one a reader was given: the end of a line of the file. */
async function checkChunkBoundary(file: FileHandle | null, offset: number): Promise<void> {
  const invalid = new Invalid(`offset ${offset} is not where a chunk of this task's output ends`);
  if (!Number.isSafeInteger(offset) || offset < 0 || !file) throw invalid;
  const before = Buffer.alloc(1);
  const { bytesRead } = await file.read(before, 0, 1, offset - 1);
  if (bytesRead !== 1 || before[0] !== 0x0a) throw invalid;
}
