// Starts real Gantry processes (server, agents, CLI) on loopback ports, as a user would, and cleans
// them up after the test.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TaskRecord } from '../../src/cluster/types.ts';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const GANTRY = path.join(REPO, 'bin', 'gantry');
export const ADMIN_TOKEN = 'gat_test-admin-token-0123456789abcdef';
export const JOIN_TOKEN = 'gjt_test-join-token-0123456789abcdef';

export { tempDir } from './temp-dirs.ts';

export interface Started {
  child: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();

/**
 * Starts `gantry ARGS` and resolves once a line of its stdout matches `ready`. Servers and agents
 * started here drain on stop (their tasks die with them, so a test leaves no process behind) unless
 * `env` says GANTRY_DRAIN_ON_STOP=0, as the tests of a stop that keeps tasks do. Their DNS server takes
 * any free port (several servers run at once), and app instances are killed without a drain delay
 * unless `env` asks for them (the discovery tests do).
 */
export function startGantry(args: string[], env: Record<string, string>, ready: RegExp, timeoutMs = 20_000): Promise<Started & { match: RegExpMatchArray }> {
  const child = spawn(GANTRY, args, { env: { ...process.env, GANTRY_DRAIN_ON_STOP: '1', GANTRY_DNS_LISTEN: '127.0.0.1:0', GANTRY_APP_DRAIN_DELAY: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const stop = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
    }).then(() => void running.delete(child));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gantry ${args[0]} not ready after ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const check = (): void => {
      const match = ready.exec(out);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve({ child, output: () => out, stop, match });
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gantry ${args[0]} exited with ${code} before it was ready:\n${out}`));
    });
  });
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** When each stdout chunk arrived, ms after the command started. */
  stdoutTimes: Array<{ at: number; text: string }>;
  durationMs: number;
}

/** Runs `gantry ARGS` to completion, with `stdin` as its standard input when given. */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 60_000, stdin?: string): Promise<CliResult> {
  const started = Date.now();
  const child = spawn(GANTRY, args, { env: { ...process.env, ...env }, stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (stdin !== undefined) child.stdin!.end(stdin);
  running.add(child);
  const result: CliResult = { code: null, stdout: '', stderr: '', stdoutTimes: [], durationMs: 0 };
  child.stdout!.on('data', (d: Buffer) => {
    result.stdout += d.toString();
    result.stdoutTimes.push({ at: Date.now() - started, text: d.toString() });
  });
  child.stderr!.on('data', (d: Buffer) => (result.stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gantry ${args.join(' ')} did not finish in ${timeoutMs} ms: ${result.stdout} ${result.stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      running.delete(child);
      result.code = code;
      result.durationMs = Date.now() - started;
      resolve(result);
    });
  });
}

/** Kills whatever a failed test left running. */
export function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A tiny API client for tests. */
export function api(url: string, token = ADMIN_TOKEN) {
  async function call<T = any>(method: string, route: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(url + route, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // raw text (logs)
    }
    return { status: response.status, body: parsed as T };
  }
  return {
    get: <T = any>(route: string) => call<T>('GET', route),
    post: <T = any>(route: string, body: unknown = {}) => call<T>('POST', route, body),
  };
}

/**
 * Whether the process runs: it exists and is not a zombie (orphans are reaped by pid 1, which on some
 * hosts does so only every few seconds).
 */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** A TCP port free on the loopback interface right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** POST /api/v1/tasks, which must answer 201; the task. */
export async function submitTask(client: ReturnType<typeof api>, body: Record<string, unknown>): Promise<TaskRecord> {
  const response = await client.post<TaskRecord>('/api/v1/tasks', body);
  assert.equal(response.status, 201, JSON.stringify(response.body));
  return response.body;
}

