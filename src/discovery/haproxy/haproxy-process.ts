// HAProxy as a child of Gantry: one master-worker process tree (`haproxy -W -db`: the master stays in the
// foreground, in our process tree), supervised. Started and awaited until it serves; restarted with
// backoff when it exits unexpectedly (a worker's crash takes its master down: exit-on-failure); reloaded
// seamlessly through the master CLI's `reload` (the master re-executes itself, the new worker takes the
// listening sockets over from the old one, the old one finishes its connections until
// `hard-stop-after`); checked with `haproxy -c` first; stopped softly (SIGUSR1) on close.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { SerialLane } from '../../shared/serial-lane.ts';
import { HaproxyRuntime } from './haproxy-runtime.ts';

const run = promisify(execFile);

export interface HaproxyProcessOptions {
  binary: string;
  /** The configuration file the master reads at each start and reload. */
  configFile: string;
  /** The master CLI's unix socket (`-S`). */
  masterSocket: string;
  /** The configuration's `pidfile`: a master left by a Gantry that died is found there and stopped. */
  pidFile: string;
  logger: Logger;
  /** Until the first worker answers. Default 15 s. */
  startTimeoutMs?: number;
  /** Until a reload says how it went. Default 15 s. */
  reloadTimeoutMs?: number;
  /** A soft stop waits this long for open connections before HAProxy is stopped hard. Default 10 s. */
  stopTimeoutMs?: number;
  /** The wait before a restart: doubling from `initialMs` up to `maxMs`. Default 200 ms to 30 s. */
  restartDelays?: { initialMs: number; maxMs: number };
  /** Called (and awaited, in the same lane as reloads) each time HAProxy came back after an unexpected exit. */
  onRestart?: () => Promise<void>;
}

export interface ProcessHealth {
  healthy: boolean;
  /** Why not: HAProxy's own first lines on the matter. */
  message: string | null;
}

/** What the master CLI's `show proc` says. */
export interface ProcInfo {
  masterPid: number;
  reloads: number;
  failedReloads: number;
  workers: number[];
  oldWorkers: number[];
}

export class HaproxyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HaproxyError';
  }
}

/** How many of HAProxy's output lines are kept for reasons. */
const KEPT_LINES = 200;
/** A process that lived this long before exiting restarts without waiting. */
const STABLE_MS = 10_000;

export class HaproxyProcess {
  private child: ChildProcess | undefined;
  private worker: number | null = null;
  private readonly lane = new SerialLane();
  private readonly lines: Array<{ seq: number; text: string }> = [];
  private seq = 0;
  private lineWaiters: Array<() => void> = [];
  private exitWaiters: Array<() => void> = [];
  private stopping = false;
  private starting = false;
  private spawnError: Error | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private startedAt = 0;
  private state: ProcessHealth = { healthy: false, message: 'HAProxy is not started' };
  private readonly killOnExit = (): void => this.killGroup('SIGTERM');

  constructor(private readonly options: HaproxyProcessOptions) {}

  health(): ProcessHealth {
    return this.state;
  }

  running(): boolean {
    return this.child !== undefined && this.worker !== null;
  }

  masterPid(): number | null {
    return this.child?.pid ?? null;
  }

  workerPid(): number | null {
    return this.child === undefined ? null : this.worker;
  }

  /** The runtime API of the current worker, through the master CLI. */
  runtime(): HaproxyRuntime {
    if (this.worker === null || this.child === undefined) throw new HaproxyError('HAProxy is not running');
    return new HaproxyRuntime({ socketPath: this.options.masterSocket, prefix: `@!${this.worker}` });
  }

  /** The master CLI itself (`show proc`, `reload`). */
  master(): HaproxyRuntime {
    return new HaproxyRuntime({ socketPath: this.options.masterSocket });
  }

  /** `haproxy -c`: null when the file is a valid configuration, else HAProxy's reasons. */
  async check(configFile: string): Promise<string | null> {
    try {
      await run(this.options.binary, ['-c', '-f', configFile], { timeout: 30_000 });
      return null;
    } catch (err) {
      const failure = err as Error & { stdout?: string; stderr?: string; code?: unknown };
      if (failure.code === 'ENOENT') return `${this.options.binary} not found (is HAProxy installed?)`;
      const output = `${failure.stderr ?? ''}\n${failure.stdout ?? ''}`.split('\n');
      return reasonOf(output) ?? failure.message;
    }
  }

  /** Starts HAProxy on the configuration file; resolves once its worker answers. */
  start(): Promise<void> {
    return this.lane.run(async () => {
      if (this.child !== undefined) return;
      this.stopping = false;
      process.on('exit', this.killOnExit);
      try {
        await this.spawnAndWait();
      } catch (err) {
        this.state = { healthy: false, message: (err as Error).message };
        throw err;
      }
    });
  }

  /**
   * Reloads the configuration file. Resolves `reloaded` once the new worker serves, `not-running` when
   * HAProxy is down (its next start reads the file); rejects with HAProxy's reasons when the new
   * configuration did not load: the old worker serves on as before.
   */
  reload(): Promise<'reloaded' | 'not-running'> {
    return this.lane.run(async () => {
      if (this.child === undefined || this.worker === null) return 'not-running';
      const before = await this.procInfo();
      const mark = this.seq;
      try {
        await this.master().command('reload');
      } catch {
        // The master closes the connection as it re-executes itself, sometimes before answering.
      }
      const deadline = Date.now() + (this.options.reloadTimeoutMs ?? 15_000);
      for (;;) {
        if (this.child === undefined) throw new HaproxyError(`HAProxy exited during the reload: ${this.reasonSince(mark) ?? 'no reason given'}`);
        const after = await this.procInfo().catch(() => null);
        if (after !== null && after.reloads > before.reloads) {
          if (after.failedReloads > before.failedReloads) {
            await this.waitForLine(mark, /Loading failure/, 2000);
            throw new HaproxyError(this.reasonSince(mark) ?? 'HAProxy did not load the new configuration');
          }
          const worker = after.workers.find((pid) => !before.workers.includes(pid));
          if (worker !== undefined) {
            this.worker = worker;
            this.options.logger.info({ worker, oldWorkers: after.oldWorkers }, 'HAProxy reloaded');
            return 'reloaded';
          }
        }
        if (Date.now() > deadline) throw new HaproxyError('HAProxy did not finish its reload in time');
        await sleep(50);
      }
    });
  }

  /** Stops HAProxy softly (its open connections finish, up to `stopTimeoutMs`), then hard. */
  stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    return this.lane.run(async () => {
      process.off('exit', this.killOnExit);
      const child = this.child;
      if (child === undefined) return;
      child.kill('SIGUSR1');
      if (!(await this.waitForExit(this.options.stopTimeoutMs ?? 10_000))) {
        this.options.logger.warn('HAProxy did not finish its connections in time: stopping it hard');
        child.kill('SIGTERM');
        if (!(await this.waitForExit(3000))) {
          this.killGroup('SIGKILL');
          await this.waitForExit(3000);
        }
      }
      this.state = { healthy: false, message: 'HAProxy is stopped' };
    });
  }

  /** What the master CLI's `show proc` says now. */
  async procInfo(): Promise<ProcInfo> {
    const answer = await this.master().command('show proc');
    const info = parseShowProc(answer);
    if (info === null) throw new HaproxyError(`unexpected answer to show proc: ${answer.slice(0, 200)}`);
    return info;
  }

  private async spawnAndWait(): Promise<void> {
    await this.stopStale();
    const mark = this.seq;
    const { binary, configFile, masterSocket } = this.options;
    const child = spawn(binary, ['-W', '-db', '-f', configFile, '-S', `${masterSocket},mode,600`], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    this.worker = null;
    this.spawnError = undefined;
    this.startedAt = Date.now();
    child.on('error', (err) => (this.spawnError = err));
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => this.onLine(line));
    }
    // `close`, not `exit`: after HAProxy's last words (and its workers' end: they hold the same pipes).
    child.on('close', (code, signal) => this.onExit(child, code, signal));
    this.starting = true;
    try {
      await this.waitUntilServing(child, mark);
    } finally {
      this.starting = false;
    }
  }

  private async waitUntilServing(child: ChildProcess, mark: number): Promise<void> {
    const { binary, masterSocket } = this.options;
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 15_000);
    for (;;) {
      if (this.child !== child) {
        const spawnError = this.spawnError;
        const reason = spawnError?.message.includes('ENOENT') ? `${binary} not found (is HAProxy installed?)` : (this.reasonSince(mark) ?? spawnError?.message ?? 'no reason given');
        throw new HaproxyError(`HAProxy did not start: ${reason}`);
      }
      const info = await this.procInfo().catch(() => null);
      const worker = info?.workers[0];
      if (worker !== undefined) {
        const answer = await new HaproxyRuntime({ socketPath: masterSocket, prefix: `@!${worker}` }).command('show info').catch(() => '');
        if (answer.includes(`Pid: ${worker}`)) {
          this.worker = worker;
          this.state = { healthy: true, message: null };
          this.options.logger.info({ master: child.pid, worker }, 'HAProxy serves');
          return;
        }
      }
      if (Date.now() > deadline) {
        this.killGroup('SIGKILL');
        throw new HaproxyError(`HAProxy did not answer within ${this.options.startTimeoutMs ?? 15_000} ms: ${this.reasonSince(mark) ?? 'no reason given'}`);
      }
      await sleep(50);
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.worker = null;
    for (const wake of this.exitWaiters.splice(0)) wake();
    if (this.stopping) return;
    // Still starting: the start reports it; else this is a crash.
    if (this.starting) return;
    const how = signal === null ? `with code ${code}` : `on ${signal}`;
    const reason = this.lastAlerts(3);
    this.state = { healthy: false, message: `HAProxy exited ${how}; restarting${reason ? `: ${reason}` : ''}` };
    this.options.logger.error({ code, signal, reason }, 'HAProxy exited unexpectedly: restarting it');
    if (Date.now() - this.startedAt > STABLE_MS) this.attempts = 0;
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (this.stopping) return;
    const { initialMs, maxMs } = this.options.restartDelays ?? { initialMs: 200, maxMs: 30_000 };
    const delay = Math.min(maxMs, initialMs * 2 ** this.attempts);
    this.attempts += 1;
    this.restartTimer = setTimeout(() => {
      void this.lane
        .run(async () => {
          if (this.stopping || this.child !== undefined) return;
          await this.spawnAndWait();
          await this.options.onRestart?.();
        })
        .catch((err: Error) => {
          this.state = { healthy: false, message: err.message };
          this.options.logger.error({ err: err.message }, 'HAProxy did not restart: trying again');
          this.scheduleRestart();
        });
    }, delay);
    this.restartTimer.unref();
  }

  /** A master a previous Gantry left running (it died without stopping it) holds our ports: stop it. */
  private async stopStale(): Promise<void> {
    if (!existsSync(this.options.pidFile)) return;
    const pid = Number(readFileSync(this.options.pidFile, 'utf8').split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 1 || pid === this.child?.pid) return;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      return;
    }
    if (!cmdline.includes(this.options.configFile)) return;
    this.options.logger.warn({ pid }, 'stopping the HAProxy a previous run left');
    const alive = (): boolean => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && alive(); i++) await sleep(50);
    if (alive()) process.kill(pid, 'SIGKILL');
  }

  private onLine(text: string): void {
    this.seq += 1;
    this.lines.push({ seq: this.seq, text });
    if (this.lines.length > KEPT_LINES) this.lines.shift();
    const level = /\[ALERT\]/.test(text) ? 'warn' : 'debug';
    this.options.logger[level]({ haproxy: text }, 'haproxy says');
    for (const wake of this.lineWaiters.splice(0)) wake();
  }

  /** HAProxy's alerts since line `mark`: their first `count` lines, its own prefixes removed. */
  private reasonSince(mark: number, count = 3): string | null {
    return reasonOf(this.lines.filter((line) => line.seq > mark).map((line) => line.text), count);
  }

  /** HAProxy's last `count` alerts. */
  private lastAlerts(count: number): string | null {
    const alerts = this.lines.filter((line) => line.text.includes('[ALERT]')).slice(-count);
    return reasonOf(alerts.map((line) => line.text), count);
  }

  private async waitForLine(mark: number, pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.lines.some((line) => line.seq > mark && pattern.test(line.text))) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.lineWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private waitForExit(timeoutMs: number): Promise<boolean> {
    if (this.child === undefined) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.exitWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private killGroup(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** `show proc` → the master's pid, its reload counts, and the current and old workers. */
export function parseShowProc(text: string): ProcInfo | null {
  let section: 'master' | 'workers' | 'old' | 'other' = 'master';
  let info: ProcInfo | null = null;
  const workers: number[] = [];
  const oldWorkers: number[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('# workers')) section = 'workers';
    else if (line.startsWith('# old workers')) section = 'old';
    else if (line.startsWith('#')) section = line.startsWith('#<PID>') ? 'master' : 'other';
    else {
      const master = /^(\d+)\s+master\s+(\d+)\s+\[failed:\s*(\d+)\]/.exec(line);
      if (master) info = { masterPid: Number(master[1]), reloads: Number(master[2]), failedReloads: Number(master[3]), workers, oldWorkers };
      const worker = /^(\d+)\s+worker\s/.exec(line);
      if (worker && section === 'workers') workers.push(Number(worker[1]));
      if (worker && section === 'old') oldWorkers.push(Number(worker[1]));
    }
  }
  return info;
}

/** HAProxy's alerts among `lines` (their first `count`), without the `[ALERT]    (pid) : ` prefix. */
export function reasonOf(lines: readonly string[], count = 3): string | null {
  const alerts = lines
    .filter((line) => line.includes('[ALERT]'))
    .map((line) => line.replace(/^\[ALERT\]\s*\(\d+\)\s*:\s*/, '').trim())
    .filter((line) => !/^(config : )?(Fatal errors found in configuration|Error\(s\) found in configuration file)/.test(line));
  return alerts.length === 0 ? null : alerts.slice(0, count).join('\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
