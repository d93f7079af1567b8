// The client of the launcher helper (helper.mjs): starts processes without forking this process.
//
// `spawn` from the server blocks its event loop for 4–10 ms per process (libuv forks the whole
// 200–300 MiB process); the helper is a small process that forks instead, so a burst of task launches
// or git commands costs the server one pipe write each. See helper.mjs for why it also outlives us.
//
// - spawnDetached(): a task's process, in its own process group and session, output to files. Its
//   `exited` promise gives the exit code and signal, or null when the helper died first (the caller
//   then watches the pid itself; the exit status is lost with the helper).
// - run(): a short command with its output captured (git in the CI), like execFile.
// - makeDirs(): directories and small files written synchronously there (a task's cgroups).
//
// Two helpers per process (sharedLauncher()), each started on first use and again after it died; a
// request goes to the one with fewer requests in flight. Like a child process, a helper keeps this
// process alive while a request waits for its answer or a process it started still runs (a caller may
// be waiting for its exit); an agent that means to leave its tasks running exits with process.exit().
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const HELPER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helper.mjs');

export interface ProcessExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

export interface DetachedSpawn {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /** Truncated, then appended to by the process (and whatever it starts). */
  stdoutPath: string;
  stderrPath: string;
  /** Where the helper writes `{pid, startTime, code, signal, endedAt}` when the process has ended. */
  exitFile?: string;
  /**
   * Written by the helper right after the fork, before it answers: `record` with the process's `pid`,
   * `pgid` and `startTime` added. A client killed at any moment after asking thus never leaves a
   * running process without its record (the exec driver's task.json, which recovery looks for). A
   * process whose record cannot be written is killed, and the spawn fails with why.
   */
  recordFile?: string;
  record?: Record<string, unknown>;
  /**
   * The instant (ms since the epoch) one line is written to the process's stdin, a pipe then (else
   * /dev/null): a prelude that reads it starts its command at that instant.
   */
  releaseAt?: number;
}

export interface SpawnedProcess {
  pid: number;
  /** Field 22 of /proc/PID/stat: with the pid, identifies the process (pids are reused). */
  startTime: number;
  /** The exit, or null when the helper died before the process ended. */
  exited: Promise<ProcessExit | null>;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  input?: string | Buffer;
  /** Bytes kept per stream; the rest is dropped and `truncated` set. Default 16 MiB. */
  maxBuffer?: number;
  /** Killed with SIGKILL after this long (the result then has signal SIGKILL). */
  timeoutMs?: number;
}

/** A directory to make (again, if it exists) and the files to write in it, in order. */
export interface DirSetup {
  dir: string;
  files: Array<{ name: string; content: string; optional?: boolean }>;
}

export interface RunResult extends ProcessExit {
  stdout: Buffer;
  stderr: Buffer;
  truncated: boolean;
}

/** The helper's answer lines (see helper.mjs). */
type Answer =
  | { id: number; op: 'spawned'; pid: number; startTime: number }
  | { id: number; op: 'exit'; code: number | null; signal: NodeJS.Signals | null }
  | { id: number; op: 'done'; code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; truncated: boolean }
  | { id: number; op: 'made'; results: Array<string | null> }
  | { id: number; op: 'error'; message: string; code?: string }
  | { op: 'log'; message: string };

interface Pending {
  resolve(answer: Answer): void;
  reject(err: Error): void;
}

type HelperProcess = ChildProcessByStdio<Writable, Readable, null>;

/** An error from the helper, with the errno code of the failed spawn (ENOENT, EACCES, ...). */
export class LaunchError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * One helper process and its conversation: requests waiting for their answer, started processes
 * waiting for their exit. Started on first use and again after it died.
 */
class HelperLink {
  private helper: HelperProcess | null = null;
  /** Requests waiting for their first answer. */
  private readonly pending = new Map<number, Pending>();
  /** Spawned processes whose exit has not been reported yet → their `exited` resolver. */
  private readonly running = new Map<number, (exit: ProcessExit | null) => void>();

  constructor(private readonly log: (message: string) => void) {}

  /** Requests not yet answered: how busy this helper is. */
  get load(): number {
    return this.pending.size;
  }

  /** Sends a request; `onExit` (spawn) is registered first, as the exit may be the line after 'spawned'. */
  request(message: { op: string; id: number } & Record<string, unknown>, onExit?: (exit: ProcessExit | null) => void): Promise<Answer> {
    const helper = this.ensureHelper();
    if (onExit) this.running.set(message.id, onExit);
    return new Promise<Answer>((resolve, reject) => {
      this.pending.set(message.id, {
        resolve,
        reject: (err) => {
          this.running.delete(message.id);
          reject(err);
        },
      });
      this.updateRef();
      helper.stdin.write(JSON.stringify(message) + '\n');
    });
  }

  close(): void {
    this.helper?.stdin.end();
    this.helper = null;
  }

  private ensureHelper(): HelperProcess {
    if (this.helper) return this.helper;
    const helper = spawn(process.execPath, [HELPER], {
      cwd: '/',
      // Its own session: a Ctrl-C or SIGHUP meant for us does not reach it, and it outlives us.
      detached: true,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    helper.stdin.on('error', () => undefined); // a dead helper: its 'exit' handler cleans up
    const lines = readline.createInterface({ input: helper.stdout, crlfDelay: Infinity });
    lines.on('line', (line) => this.onAnswer(line));
    helper.once('exit', (code, signal) => this.onHelperExit(helper, code, signal));
    helper.once('error', (err) => this.onHelperExit(helper, null, null, err));
    this.helper = helper;
    this.updateRef();
    return helper;
  }

  private onAnswer(line: string): void {
    let answer: Answer;
    try {
      answer = JSON.parse(line) as Answer;
    } catch {
      this.log(`launcher: an answer that is not JSON: ${line.slice(0, 200)}`);
      return;
    }
    if (answer.op === 'log') {
      this.log(`launcher: ${answer.message}`);
      return;
    }
    if (answer.op === 'exit') {
      this.running.get(answer.id)?.({ exitCode: answer.code, signal: answer.signal });
      this.running.delete(answer.id);
      this.updateRef();
      return;
    }
    const pending = this.pending.get(answer.id);
    if (!pending) return;
    this.pending.delete(answer.id);
    if (answer.op === 'error') pending.reject(new LaunchError(answer.message, answer.code));
    else pending.resolve(answer);
    this.updateRef();
  }

  private onHelperExit(helper: HelperProcess, code: number | null, signal: NodeJS.Signals | null, err?: Error): void {
    if (this.helper === helper) this.helper = null;
    const why = err ? err.message : `exited (${signal ?? `code ${code}`})`;
    if (this.pending.size > 0 || this.running.size > 0) this.log(`launcher: the helper ${why}; it is started again on the next request`);
    for (const { reject } of this.pending.values()) reject(new Error(`the launcher helper ${why}`));
    this.pending.clear();
    for (const resolveExit of this.running.values()) resolveExit(null);
    this.running.clear();
  }

  /** Keeps this process alive only while a request waits for its answer or a started process runs. */
  private updateRef(): void {
    const helper = this.helper;
    if (!helper) return;
    const busy = this.pending.size > 0 || this.running.size > 0;
    for (const handle of [helper, helper.stdout, helper.stdin] as Array<{ ref(): void; unref(): void }>) {
      if (busy) handle.ref();
      else handle.unref();
    }
  }
}

/** Helpers per launcher: a spawn blocks its helper until the child has exec'd, ~1–3 ms; two share the 2 cores. */
const DEFAULT_HELPERS = 2;

export class ProcessLauncher {
  private readonly helpers: HelperLink[];
  private nextId = 1;

  constructor(log: (message: string) => void = () => undefined, helperCount = DEFAULT_HELPERS) {
    this.helpers = Array.from({ length: Math.max(1, helperCount) }, () => new HelperLink(log));
  }

  async spawnDetached(request: DetachedSpawn): Promise<SpawnedProcess> {
    const id = this.nextId++;
    let resolveExit!: (exit: ProcessExit | null) => void;
    const exited = new Promise<ProcessExit | null>((resolve) => (resolveExit = resolve));
    const answer = await this.leastBusy().request({ op: 'spawn', id, ...request }, resolveExit);
    if (answer.op !== 'spawned') throw new Error(`launcher: unexpected answer ${answer.op} to spawn`);
    return { pid: answer.pid, startTime: answer.startTime, exited };
  }

  async run(argv: string[], options: RunOptions = {}): Promise<RunResult> {
    const id = this.nextId++;
    const env = Object.fromEntries(Object.entries(options.env ?? process.env).filter((e): e is [string, string] => e[1] !== undefined));
    const answer = await this.leastBusy().request({
      op: 'run',
      id,
      argv,
      cwd: options.cwd ?? process.cwd(),
      env,
      ...(options.input !== undefined ? { input: Buffer.from(options.input).toString('base64') } : {}),
      ...(options.maxBuffer !== undefined ? { maxBuffer: options.maxBuffer } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
    if (answer.op !== 'done') throw new Error(`launcher: unexpected answer ${answer.op} to run`);
    return {
      exitCode: answer.code,
      signal: answer.signal,
      stdout: Buffer.from(answer.stdout, 'base64'),
      stderr: Buffer.from(answer.stderr, 'base64'),
      truncated: answer.truncated,
    };
  }

  /**
   * Makes the directories and writes their files, synchronously in a helper (a task's cgroups: a
   * handful of operations that cost far more each through this process's thread pool). Per setup:
   * null when done, else why not ("mkdir PATH: EACCES"); a failed setup's directory may remain.
   */
  async makeDirs(setups: DirSetup[]): Promise<Array<string | null>> {
    const answer = await this.leastBusy().request({ op: 'mkdirs', id: this.nextId++, setups });
    if (answer.op !== 'made') throw new Error(`launcher: unexpected answer ${answer.op} to mkdirs`);
    return answer.results;
  }

  /** Lets the helpers go: each exits once the detached processes it started have ended. */
  close(): void {
    for (const helper of this.helpers) helper.close();
  }

  private leastBusy(): HelperLink {
    return this.helpers.reduce((best, helper) => (helper.load < best.load ? helper : best));
  }
}

let shared: ProcessLauncher | null = null;

/** The launcher of this process (one pool of helpers for all its agents and services). */
export function sharedLauncher(log?: (message: string) => void): ProcessLauncher {
  shared ??= new ProcessLauncher(log);
  return shared;
}
