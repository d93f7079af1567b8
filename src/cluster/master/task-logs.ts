// Task output as the master keeps it: one file per task under <dataDir>/logs, one JSON line per chunk
// ({"s":"stdout","d":"text"} or {"s":"stderr","b":"base64"} when the bytes are not valid UTF-8), so
// the order of stdout and stderr is kept and readers can follow a file while the task runs.
import { EventEmitter } from 'node:events';
import { createReadStream } from 'node:fs';
import { appendFile, mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { utf8Text } from '../../shared/utf8.ts';
import type { OutputChunk, OutputStream } from '../drivers/driver.ts';

interface StoredLine {
  s: OutputStream;
  d?: string;
  b?: string;
}

export interface FollowOptions {
  follow: boolean;
  /** Whether the task has ended and will write no more output; checked when the file is drained. */
  isComplete: () => Promise<boolean>;
  signal?: AbortSignal;
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
    let count = 0;
    try {
      const text = await readFile(this.fileOf(taskId), 'utf8');
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.chunkCounts.set(taskId, count);
    return count;
  }

  /** The task's output from the start; with follow, keeps reading until the task is complete. */
  async *read(taskId: string, options: FollowOptions): AsyncGenerator<OutputChunk> {
    const file = this.fileOf(taskId);
    let offset = 0;
    let partial = '';
    for (;;) {
      if (options.signal?.aborted) return;
      // Ask before reading: whatever was appended before the task completed is then read below.
      const complete = options.follow ? await options.isComplete() : true;
      const woken = options.follow ? this.nextAppend(taskId, options.signal) : null;
      const size = await fileSize(file);
      if (size > offset) {
        const text = await readRange(file, offset, size);
        offset = size;
        const lines = (partial + text).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (line) yield decodeChunk(JSON.parse(line) as StoredLine);
        continue;
      }
      if (complete) return;
      await woken;
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

function readRange(file: string, start: number, end: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    createReadStream(file, { start, end: end - 1 })
      .on('data', (part) => parts.push(part as Buffer))
      .on('end', () => resolve(Buffer.concat(parts).toString('utf8')))
      .on('error', reject);
  });
}
