// The bench's child processes: backends (backend.ts) and data planes (plane-worker.ts), each driven over
// IPC with numbered requests, and a register of everything started so that a failure or Ctrl-C leaves
// nothing running (each child by its own pid; HAProxy peers are registered by haproxy-peer.ts).
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LbModel } from '../../src/discovery/model.ts';
import type { PlaneAnswer, PlaneRequest } from './plane-worker.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Every child still alive, stopped by stopAll(). */
const live = new Set<{ stop(): Promise<void> }>();

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((child) => child.stop().catch(() => undefined)));
}

export function register(child: { stop(): Promise<void> }): () => void {
  live.add(child);
  return () => live.delete(child);
}

/** A child spoken to by IPC: request() resolves with the answer of the same seq. */
class IpcChild {
  private seq = 0;
  private readonly waiting = new Map<number, (answer: any) => void>();
  output = '';

  constructor(readonly child: ChildProcess) {
    child.on('message', (answer: { seq?: number }) => {
      if (typeof answer.seq !== 'number') return;
      const resolve = this.waiting.get(answer.seq);
      this.waiting.delete(answer.seq);
      resolve?.(answer);
    });
    child.stdout?.on('data', (d: Buffer) => (this.output = (this.output + d.toString()).slice(-8000)));
    child.stderr?.on('data', (d: Buffer) => (this.output = (this.output + d.toString()).slice(-8000)));
    child.once('exit', (code, signal) => {
      for (const resolve of this.waiting.values()) resolve({ ok: false, error: `the process exited (${code ?? signal}): ${this.output.slice(-2000)}` });
      this.waiting.clear();
    });
  }

  request<T>(message: Record<string, unknown>): Promise<T> {
    const seq = ++this.seq;
    return new Promise<T>((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        resolve({ ok: false, error: `the process has exited: ${this.output.slice(-2000)}` } as T);
        return;
      }
      this.waiting.set(seq, resolve);
      this.child.send({ ...message, seq });
    });
  }

  /** Disconnects (the child exits on it), then SIGKILL after `graceMs`. */
  stop(graceMs = 5000): Promise<void> {
    const child = this.child;
    return new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      if (child.connected) child.disconnect();
      else child.kill('SIGTERM');
    });
  }
}

/**
 * Each proxy runs in a session of its own (`detached`), as the managed HAProxy does (Gantry starts it so)
 * and as a service would: with the kernel's scheduler autogroups on (Debian's default), a process shares
 * the CPU with its session's other processes per task and with other sessions per group, and a proxy in
 * wrk's session measured 10–15% faster than the same proxy in a session of its own. Backends stay in
 * the bench's session.
 */
function forkTs(script: string, args: string[], ownSession = false): ChildProcess {
  return fork(path.join(HERE, script), args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: ownSession });
}

function firstMessage<T>(child: ChildProcess, what: string, timeoutMs = 30_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let out = '';
    const collect = (d: Buffer): void => void (out += d.toString());
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const done = (): void => {
      clearTimeout(timer);
      child.stdout?.off('data', collect);
      child.stderr?.off('data', collect);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (message: T): void => {
      done();
      resolve(message);
    };
    const onExit = (code: number | null): void => {
      done();
      reject(new Error(`${what} exited (${code}) before it was ready:\n${out}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${what} not ready after ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export interface Backend {
  name: string;
  port: number;
  pid: number;
  /** Stops accepting, closes idle connections; what is left is cut 1 s later. */
  stopServing(): Promise<void>;
  /** Listens again on its port. */
  startServing(): Promise<void>;
  stop(): Promise<void>;
}

export async function startBackend(name: string, port = 0): Promise<Backend> {
  const child = forkTs('backend.ts', [name, String(port)]);
  const ready = await firstMessage<{ ready: boolean; port: number }>(child, `backend ${name}`);
  const ipc = new IpcChild(child);
  const check = async (op: 'stop' | 'start'): Promise<void> => {
    const answer = await ipc.request<{ ok: boolean; error?: string }>({ op });
    if (!answer.ok) throw new Error(`backend ${name} ${op}: ${answer.error}`);
  };
  const backend: Backend = {
    name,
    port: ready.port,
    pid: child.pid ?? 0,
    stopServing: () => check('stop'),
    startServing: () => check('start'),
    stop: async () => {
      unregister();
      await ipc.stop();
    },
  };
  const unregister = register(backend);
  return backend;
}

export interface Plane {
  kind: 'builtin' | 'haproxy';
  pid: number;
  apply(model: LbModel): Promise<number>;
  status(): Promise<PlaneAnswer>;
  stop(): Promise<void>;
}

/** A data plane in its own process; resolves once it is constructed (nothing applied yet). */
export async function startPlane(kind: 'builtin' | 'haproxy', workDir?: string): Promise<Plane> {
  const child = forkTs('plane-worker.ts', workDir === undefined ? [kind] : [kind, workDir], true);
  await firstMessage<PlaneAnswer>(child, `the ${kind} data plane`);
  const ipc = new IpcChild(child);
  const call = async (request: DistributiveOmit<PlaneRequest, 'seq'>): Promise<PlaneAnswer> => {
    const answer = await ipc.request<PlaneAnswer>(request);
    if (!answer.ok) throw new Error(`${kind} data plane ${request.op}: ${answer.error}`);
    return answer;
  };
  const plane: Plane = {
    kind,
    pid: child.pid ?? 0,
    apply: async (model) => (await call({ op: 'apply', model })).ms ?? NaN,
    status: () => call({ op: 'status' }),
    stop: async () => {
      unregister();
      // close() stops HAProxy softly; the disconnect that follows ends the worker.
      await Promise.race([call({ op: 'close' }).catch(() => undefined), new Promise((r) => setTimeout(r, 10_000))]);
      await ipc.stop();
    },
  };
  const unregister = register(plane);
  return plane;
}
