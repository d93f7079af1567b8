// Task output as the master keeps it: one log per task under <dataDir>/logs, one JSON line per chunk
// ({"s":"stdout","d":"text"} or {"s":"stderr","b":"base64"} when the bytes are not valid UTF-8), so
// the order of stdout and stderr is kept and readers can follow a log while the task runs.
// A chunk's place in the log is its identity for readers: the offset just after its line is where a
// reader that got it resumes (SSE's Last-Event-ID), with no gap and no duplicate.
//
// A log may be capped (maxBytesPerTask): it is then written in up to filesPerTask files of
// cap/filesPerTask bytes each (log-segments.ts); a full file rolls the log on to a new one and the
// oldest file is dropped, so the newest output is kept, appends never rewrite anything and offsets
// stay where they were. Each rolled file opens with the totals before it (log-cut.ts): what was cut,
// shown to readers who missed it, and the chunk count agents' retries are numbered by.
import { EventEmitter } from 'node:events';
import { appendFile, mkdir, open, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { Invalid } from '../../shared/errors.ts';
import { utf8Text } from '../../shared/utf8.ts';
import type { OutputChunk, OutputStream } from '../drivers/driver.ts';
import type { OutputSoFar } from '../protocol.ts';
import { cutNotice, cutOf, fileOpeningLine, formatBytes, isFileOpening, type FileOpening, type LogCut } from './log-cut.ts';
import { completeLines } from './log-lines.ts';
import { LogRemoved, type LogRemovals } from './log-removal.ts';
import { LogSegments } from './log-segments.ts';

/** A sensible cap for the server's configuration: a service writing for weeks keeps its last 10 MiB. */
export const DEFAULT_MAX_BYTES_PER_TASK = 10 * 1024 * 1024;
export const DEFAULT_FILES_PER_TASK = 2;
/** A file's share of the cap has room for a header and some output. */
const MIN_FILE_BYTES = 1024;
/** Room left in a file's share for its opening line (the totals before it: three numbers). */
const OPENING_ROOM = 128;

export interface TaskLogOptions {
  /**
   * The most a task's log holds on disk, in bytes over all its files; past it the oldest output is
   * cut. Absent: no cap. (A chunk is never split: one whose line is bigger than a file's share gets a
   * file of its own, over the share.)
   */
  maxBytesPerTask?: number;
  /** How many files a capped log is spread over (at least 2): at least (n-1)/n of the cap is kept. Default 2. */
  filesPerTask?: number;
  /** Where removals of whole logs (retention) are recorded, so that readers are told (LogRemoved). */
  removals?: LogRemovals;
}

interface StoredLine {
  s: OutputStream;
  d?: string;
  b?: string;
  /** Bytes cut from the start of a chunk too big for a file's share of the cap (its newest bytes are kept). */
  t?: number;
  /** When the agent read the chunk (epoch ms; OutputChunk.at). */
  at?: number;
}

export interface ReadOptions {
  follow: boolean;
  /** Whether the task has ended and will write no more output; checked when the log is drained. */
  isComplete: () => Promise<boolean>;
  signal?: AbortSignal;
  /** Where to start in the task's log: 0 (the default) or the `endOffset` of a chunk read before. */
  fromOffset?: number;
}

/** A chunk as read back, with where it ends in the task's log: give that as `fromOffset` to resume after it. */
export interface StoredChunk extends OutputChunk {
  endOffset: number;
  /** Set on the notice (on stderr) that stands for output cut from a capped log before the reader got it. */
  cut?: LogCut;
}

/** What the store knows of a log it writes: the task's totals and the log's newest file. */
interface Writing {
  /** Over all the task's output, cut or not. */
  totals: OutputSoFar;
  /** Where the log's files start, oldest first. */
  bases: number[];
  newestBytes: number;
  newestChunks: number;
}

export class TaskLogStore {
  private readonly appended = new EventEmitter();
  private readonly segments: LogSegments;
  /** The logs being written, so that an agent's retried batch is not written twice. */
  private readonly writing = new Map<string, Promise<Writing>>();
  /** Serialises appends per task (a retry may race with the original request). */
  private readonly appendQueues = new Map<string, Promise<unknown>>();
  private readonly maxBytesPerTask: number;
  private readonly filesPerTask: number;
  private readonly fileBytes: number;

  constructor(
    private readonly dir: string,
    private readonly options: TaskLogOptions = {},
  ) {
    this.appended.setMaxListeners(0);
    this.segments = new LogSegments(dir);
    this.maxBytesPerTask = options.maxBytesPerTask ?? Infinity;
    this.filesPerTask = options.filesPerTask ?? DEFAULT_FILES_PER_TASK;
    if (!Number.isInteger(this.filesPerTask) || this.filesPerTask < 2) throw new Error(`a capped log needs at least 2 files, not ${this.filesPerTask}`);
    this.fileBytes = Math.floor(this.maxBytesPerTask / this.filesPerTask);
    if (!(this.fileBytes >= MIN_FILE_BYTES)) {
      throw new Error(`a task log cap of ${this.maxBytesPerTask} bytes over ${this.filesPerTask} files is under ${MIN_FILE_BYTES} bytes a file`);
    }
  }

  /** The file of the task's output from its start (the only one until a capped log is cut). */
  fileOf(taskId: string): string {
    return this.segments.firstFile(taskId);
  }

  /** The task's log files, oldest first. */
  async filesOf(taskId: string): Promise<string[]> {
    return (await this.segments.bases(taskId)).map((base) => this.segments.fileAt(taskId, base));
  }

  /**
   * Appends a batch that starts at chunk number `from` of the task's output. Chunks the log already
   * holds (or held before a cut) are skipped, which makes agents' retries idempotent.
   */
  append(taskId: string, from: number, chunks: readonly OutputChunk[]): Promise<void> {
    return this.queued(taskId, () => this.appendNow(taskId, from, chunks));
  }

  private queued<T>(taskId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.appendQueues.get(taskId) ?? Promise.resolve();
    const next = previous.then(work);
    this.appendQueues.set(taskId, next.catch(() => undefined));
    return next;
  }

  private async appendNow(taskId: string, from: number, chunks: readonly OutputChunk[]): Promise<void> {
    const log = await this.writingOf(taskId);
    const have = log.totals.chunks;
    if (from > have) throw new Error(`output of ${taskId} has ${have} chunks; a batch from ${from} would leave a gap`);
    const fresh = chunks.slice(Math.max(0, have - from));
    if (fresh.length === 0) return;
    await mkdir(this.dir, { recursive: true });
    let pending: Array<{ chunk: OutputChunk; line: string }> = [];
    let pendingBytes = 0;
    for (const chunk of fresh) {
      const line = storedLine(chunk, this.fileBytes - OPENING_ROOM);
      const bytes = Buffer.byteLength(line);
      const holdsOutput = log.newestChunks + pending.length > 0;
      if (holdsOutput && log.newestBytes + pendingBytes + bytes > this.fileBytes) {
        await this.write(taskId, log, pending, pendingBytes);
        await this.roll(taskId, log);
        pending = [];
        pendingBytes = 0;
      }
      pending.push({ chunk, line });
      pendingBytes += bytes;
    }
    await this.write(taskId, log, pending, pendingBytes);
    this.appended.emit(taskId);
  }

  private async write(taskId: string, log: Writing, lines: ReadonlyArray<{ chunk: OutputChunk; line: string }>, bytes: number): Promise<void> {
    if (lines.length === 0) return;
    const base = log.bases.at(-1) ?? 0;
    await appendFile(this.segments.fileAt(taskId, base), lines.map((l) => l.line).join(''));
    if (log.bases.length === 0) log.bases.push(base);
    log.newestBytes += bytes;
    log.newestChunks += lines.length;
    for (const { chunk } of lines) {
      log.totals.chunks++;
      log.totals[chunk.stream] += chunk.data.length;
    }
  }

  /** Starts a new file after the newest (which is then complete), dropping the oldest beyond filesPerTask. */
  private async roll(taskId: string, log: Writing): Promise<void> {
    const base = log.bases.at(-1)! + log.newestBytes;
    const opening = fileOpeningLine(log.totals);
    while (log.bases.length >= this.filesPerTask) {
      const oldest = log.bases.shift()!;
      await unlinkIfExists(this.segments.fileAt(taskId, oldest));
      await this.segments.removed(taskId, oldest);
    }
    await writeFile(this.segments.fileAt(taskId, base), opening);
    await this.segments.added(taskId, base);
    log.bases.push(base);
    log.newestBytes = Buffer.byteLength(opening);
    log.newestChunks = 0;
  }

  private writingOf(taskId: string): Promise<Writing> {
    let known = this.writing.get(taskId);
    if (!known) {
      known = this.loadWriting(taskId);
      this.writing.set(taskId, known);
      known.catch(() => this.writing.delete(taskId));
    }
    return known;
  }

  /** The totals from the newest file: its opening line (the totals before it) and its chunks. */
  private async loadWriting(taskId: string): Promise<Writing> {
    const bases = await this.segments.bases(taskId);
    const log: Writing = { totals: { chunks: 0, stdout: 0, stderr: 0 }, bases, newestBytes: 0, newestChunks: 0 };
    const newest = bases.at(-1);
    const file = newest === undefined ? null : await openIfExists(this.segments.fileAt(taskId, newest));
    if (!file) return log;
    try {
      const size = (await file.stat()).size;
      for await (const line of completeLines(file, 0, size)) {
        const stored = parseLine(line.bytes);
        if (isFileOpening(stored)) {
          log.totals = { ...stored.before };
          continue;
        }
        log.totals.chunks++;
        log.totals[stored.s] += (stored.t ?? 0) + (stored.b !== undefined ? Buffer.byteLength(stored.b, 'base64') : Buffer.byteLength(stored.d ?? '', 'utf8'));
        log.newestChunks++;
      }
      log.newestBytes = size;
    } finally {
      await file.close();
    }
    return log;
  }

  /** Forgets what it knew of a finished task's log (its files stay). */
  forget(taskId: string): void {
    this.writing.delete(taskId);
    this.appendQueues.delete(taskId);
    this.appended.emit(taskId);
  }

  /** Wakes followers of a task, e.g. when it ended without output. */
  notify(taskId: string): void {
    this.appended.emit(taskId);
  }

  /** Removes every file of the task's log (retention); what that freed. */
  remove(taskId: string): Promise<{ files: number; bytes: number }> {
    const removing = this.queued(taskId, () => this.removeNow(taskId));
    const queue = this.appendQueues.get(taskId);
    // A removed log is not written again: its queue goes unless an append was queued behind it.
    void removing.finally(() => this.appendQueues.get(taskId) === queue && this.appendQueues.delete(taskId)).catch(() => undefined);
    return removing;
  }

  private async removeNow(taskId: string): Promise<{ files: number; bytes: number }> {
    const freed = { files: 0, bytes: 0 };
    for (const base of await this.segments.bases(taskId)) {
      const file = this.segments.fileAt(taskId, base);
      const size = await sizeIfExists(file);
      if (size !== null && (await unlinkIfExists(file))) {
        freed.files++;
        freed.bytes += size;
      }
      await this.segments.removed(taskId, base);
    }
    this.writing.delete(taskId);
    this.appended.emit(taskId);
    return freed;
  }

  /** How much output of the task there was, cut or not: chunks, and bytes per stream. */
  async outputSoFar(taskId: string): Promise<OutputSoFar> {
    await this.appendQueues.get(taskId); // a batch being written counts
    return { ...(await this.writingOf(taskId)).totals };
  }

  /**
   * Throws Invalid unless `offset` is 0, where a chunk of the task's log ends, or in output cut since
   * (what read() accepts); LogRemoved when the whole log was removed.
   */
  async checkResumeOffset(taskId: string, offset: number): Promise<void> {
    const invalid = new Invalid(`offset ${offset} is not where a chunk of this task's output ends`);
    for (let attempt = 0; attempt < 3; attempt++) {
      const bases = await this.segments.bases(taskId);
      if (bases.length === 0) await this.throwIfRemoved(taskId);
      if (offset === 0) return;
      if (!Number.isSafeInteger(offset) || offset < 0 || bases.length === 0) throw invalid;
      // Up to the oldest file's start: cut output (the reader is told) or that file's very start.
      if (offset <= bases[0]!) return;
      const base = bases[lastAtOrBelow(bases, offset)]!;
      if (offset === base) return; // a file starts where the one before it ended, after a line
      const file = await openIfExists(this.segments.fileAt(taskId, base));
      if (!file) continue; // dropped since listed: the offset is in cut output now
      try {
        const before = Buffer.alloc(1);
        const { bytesRead } = await file.read(before, 0, 1, offset - base - 1);
        if (bytesRead !== 1 || before[0] !== 0x0a) throw invalid;
        return;
      } finally {
        await file.close();
      }
    }
    throw invalid;
  }

  private async throwIfRemoved(taskId: string): Promise<void> {
    const removal = await this.options.removals?.logRemoval(taskId);
    if (removal) throw new LogRemoved(taskId, removal);
  }

  /**
   * The task's output from `fromOffset` (the start by default), read in bounded pieces; with follow,
   * keeps reading until the task is complete. Throws Invalid when `fromOffset` is not where a chunk
   * ends. A reader whose next output was cut from a capped log is given a notice saying what was cut
   * (a chunk with `cut`) and goes on with the oldest output kept.
   */
  async *read(taskId: string, options: ReadOptions): AsyncGenerator<StoredChunk> {
    let offset = options.fromOffset ?? 0;
    await this.checkResumeOffset(taskId, offset);
    /** How far the log has been looked at: a line still being written lies between offset and here. */
    let scanned = offset;
    /** Whether output after the reader's last chunk was cut: the oldest file's opening line says what. */
    let missed = false;
    /** The file being read; kept open, it can be read to its end after it is dropped. */
    let current: { base: number; file: FileHandle } | null = null;
    const close = async (): Promise<void> => {
      await current?.file.close();
      current = null;
    };
    try {
      for (;;) {
        if (options.signal?.aborted) return;
        // Ask before reading: whatever was appended before the task completed is then read below.
        const complete = options.follow ? await options.isComplete() : true;
        const woken = options.follow ? this.nextAppend(taskId, options.signal) : null;
        // Listed before the file's size is taken: a newer file listed here was made after the last write to this one.
        const bases = await this.segments.bases(taskId);
        if (!current || offset < current.base) {
          await close();
          const at = lastAtOrBelow(bases, offset);
          if (at === -1 && bases.length > 0) {
            offset = scanned = bases[0]!;
            missed = true;
            continue;
          }
          if (at !== -1) {
            const base = bases[at]!;
            const file = await openIfExists(this.segments.fileAt(taskId, base));
            if (!file) {
              await this.segments.removed(taskId, base); // dropped since listed; not listed again
              continue;
            }
            current = { base, file };
          }
        }
        if (current) {
          const { base, file } = current;
          const end = base + (await file.stat()).size;
          if (end > scanned) {
            for await (const line of completeLines(file, offset - base, end - base)) {
              const stored = parseLine(line.bytes);
              const lineStart = offset;
              offset = base + line.endOffset;
              if (!isFileOpening(stored) && stored.t) yield this.trimmedNotice(stored.t, lineStart);
              if (!isFileOpening(stored)) yield { ...decodeChunk(stored), endOffset: offset };
              else if (missed) yield this.cutChunk(stored, offset);
              missed = false;
              if (options.signal?.aborted) return;
            }
            scanned = end;
            continue;
          }
          const next = bases.find((b) => b > base);
          if (next !== undefined) {
            // This file is complete; the next one starts where it ended unless that was dropped too.
            await close();
            missed = next !== end;
            offset = scanned = next;
            continue;
          }
        }
        if (complete) return;
        await woken;
      }
    } finally {
      await close();
    }
  }

  /** Said before a chunk whose start was cut; resuming after it shows it again with its chunk. */
  private trimmedNotice(bytes: number, endOffset: number): StoredChunk {
    const cut = { chunks: 0, bytes };
    const text = `[gantry] ${formatBytes(bytes)} cut from the start of the next output, larger than a file of the log holds (log cap ${formatBytes(this.maxBytesPerTask)})\n`;
    return { stream: 'stderr', data: Buffer.from(text), endOffset, cut };
  }

  private cutChunk(opening: FileOpening, endOffset: number): StoredChunk {
    const cut = cutOf(opening);
    return { stream: 'stderr', data: Buffer.from(cutNotice(cut, this.maxBytesPerTask)), endOffset, cut };
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

/** The index of the last base at or below `offset`; -1 when there is none. */
function lastAtOrBelow(bases: readonly number[], offset: number): number {
  let at = -1;
  for (let i = 0; i < bases.length && bases[i]! <= offset; i++) at = i;
  return at;
}

function parseLine(bytes: Buffer): StoredLine | FileOpening {
  return JSON.parse(bytes.toString('utf8')) as StoredLine | FileOpening;
}

/**
 * A chunk's line in the log, at most `maxBytes` long: a chunk too big for that keeps its newest
 * bytes (from a character's start) and says how many it lost, so that no file outgrows its share.
 */
function storedLine(chunk: OutputChunk, maxBytes: number): string {
  const whole = JSON.stringify(encodeChunk(chunk)) + '\n';
  let bytes = Buffer.byteLength(whole);
  if (bytes <= maxBytes) return whole;
  let keep = chunk.data.length;
  for (;;) {
    keep = Math.floor((keep * maxBytes * 0.95) / bytes);
    let start = chunk.data.length - keep;
    while (start < chunk.data.length && (chunk.data[start]! & 0xc0) === 0x80) start++; // not inside a UTF-8 character
    const line = JSON.stringify({ ...encodeChunk({ stream: chunk.stream, data: chunk.data.subarray(start), at: chunk.at }), t: start } satisfies StoredLine) + '\n';
    bytes = Buffer.byteLength(line);
    if (bytes <= maxBytes) return line;
  }
}

function encodeChunk(chunk: OutputChunk): StoredLine {
  const text = utf8Text(chunk.data);
  const at = chunk.at !== undefined ? { at: chunk.at } : {};
  return text !== null ? { s: chunk.stream, d: text, ...at } : { s: chunk.stream, b: chunk.data.toString('base64'), ...at };
}

function decodeChunk(line: StoredLine): OutputChunk {
  const data = line.b !== undefined ? Buffer.from(line.b, 'base64') : Buffer.from(line.d ?? '', 'utf8');
  return line.at !== undefined ? { stream: line.s, data, at: line.at } : { stream: line.s, data };
}

async function openIfExists(file: string): Promise<FileHandle | null> {
  try {
    return await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function sizeIfExists(file: string): Promise<number | null> {
  try {
    return (await stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** True when it removed the file, false when there was none. */
async function unlinkIfExists(file: string): Promise<boolean> {
  try {
    await unlink(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
