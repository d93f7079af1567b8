// Measuring helpers: timing, server RSS sampling, inode counting and wrk runs.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = process.hrtime.bigint();
  const value = await work();
  return { value, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

/** MB/s (10^6 bytes per second), as disks and registries are usually quoted. */
export const mbPerSecond = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);

/** VmRSS of a process in KiB, or undefined once it is gone. */
export function rssKiB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS every 100 ms while `work` runs: before, max during, after. */
export async function withRss<T>(pid: number, work: () => Promise<T>): Promise<{ value: T; ms: number; rss: { beforeMiB: number; maxMiB: number; afterMiB: number } }> {
  const before = rssKiB(pid) ?? 0;
  let max = before;
  const timer = setInterval(() => {
    max = Math.max(max, rssKiB(pid) ?? 0);
  }, 100);
  try {
    const result = await timed(work);
    const after = rssKiB(pid) ?? 0;
    max = Math.max(max, after);
    return { ...result, rss: { beforeMiB: before / 1024, maxMiB: max / 1024, afterMiB: after / 1024 } };
  } finally {
    clearInterval(timer);
  }
}

/** Files + directories under `dir` (the directory itself not counted). */
export async function countInodes(dir: string): Promise<number> {
  let count = 0;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    count += 1;
    if (entry.isDirectory()) count += await countInodes(path.join(dir, entry.name));
  }
  return count;
}

export interface WrkResult {
  requestsPerSecond: number;
  requests: number;
  /** Non-2xx/3xx answers plus socket errors: should be 0. */
  errors: number;
  latencyP50: string;
  latencyP99: string;
}

/**
 * ApacheBench for HEAD: wrk cannot count HEAD requests whose answer carries a non-zero Content-Length
 * (its response parser waits for a body that never comes: 0 requests). ab -k -i keeps connections
 * alive and sends HEAD; it is one thread, so it is the lighter client on a 2-core machine.
 */
export async function runAbHead(url: string, opts: { connections: number; durationS: number }): Promise<WrkResult> {
  const args = ['-q', '-k', '-i', '-c', String(opts.connections), '-t', String(opts.durationS), '-n', '100000000', url];
  const { stdout } = await run('ab', args, { maxBuffer: 1 << 20 });
  const num = (re: RegExp): number => Number(re.exec(stdout)?.[1] ?? 0);
  const requestsPerSecond = num(/Requests per second:\s+([\d.]+)/);
  if (requestsPerSecond === 0) throw new Error(`ab gave no figure:\n${stdout}`);
  return {
    requestsPerSecond,
    requests: num(/Complete requests:\s+(\d+)/),
    errors: num(/Failed requests:\s+(\d+)/) + num(/Non-2xx responses:\s+(\d+)/),
    latencyP50: `${num(/\s50%\s+(\d+)/)}ms`,
    latencyP99: `${num(/\s99%\s+(\d+)/)}ms`,
  };
}

/** wrk -t THREADS -c CONNECTIONS -d DURATION with a lua script setting the method and headers. */
export async function runWrk(url: string, method: 'GET', headers: Record<string, string>, opts: { threads: number; connections: number; durationS: number }): Promise<WrkResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-wrk-'));
  try {
    const script = path.join(dir, 'request.lua');
    const lines = [`wrk.method = "${method}"`, ...Object.entries(headers).map(([k, v]) => `wrk.headers["${k}"] = "${v}"`)];
    await writeFile(script, lines.join('\n') + '\n');
    const args = ['-t', String(opts.threads), '-c', String(opts.connections), '-d', `${opts.durationS}s`, '--latency', '-s', script, url];
    const { stdout } = await run('wrk', args, { maxBuffer: 1 << 20 });
    const num = (re: RegExp): number => Number(re.exec(stdout)?.[1] ?? 0);
    const requestsPerSecond = num(/Requests\/sec:\s+([\d.]+)/);
    if (requestsPerSecond === 0) throw new Error(`wrk gave no figure:\n${stdout}`);
    const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
    const socket = socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
    return {
      requestsPerSecond,
      requests: num(/(\d+) requests in/),
      errors: num(/Non-2xx or 3xx responses:\s+(\d+)/) + socket,
      latencyP50: /\s50%\s+(\S+)/.exec(stdout)?.[1] ?? '?',
      latencyP99: /\s99%\s+(\S+)/.exec(stdout)?.[1] ?? '?',
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
