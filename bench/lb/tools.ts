// The outside tools the bench drives, from Debian: wrk (HTTP load), dnsperf (DNS load), haproxy (the
// peers and the managed data plane), dig (a look at the answers). Checked up front, with the line that
// installs what is missing; their outputs parsed here.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { HAPROXY } from './haproxy-peer.ts';

const run = promisify(execFile);

const TOOLS: Array<{ path: string; pkg: string; parts: string[] }> = [
  { path: '/usr/bin/wrk', pkg: 'wrk', parts: ['throughput'] },
  { path: HAPROXY, pkg: 'haproxy', parts: ['throughput', 'churn'] },
  { path: '/usr/bin/dnsperf', pkg: 'dnsperf', parts: ['dns'] },
  { path: '/usr/bin/dig', pkg: 'dnsutils', parts: ['dns'] },
];

/** The Debian packages missing for the parts asked for. */
export function missingPackages(parts: ReadonlySet<string>): string[] {
  return TOOLS.filter((tool) => tool.parts.some((part) => parts.has(part)) && !existsSync(tool.path)).map((tool) => tool.pkg);
}

export interface WrkResult {
  rps: number;
  /** Latency percentiles in milliseconds. */
  p50: number;
  p99: number;
  requests: number;
  /** connect + read + write + timeout socket errors, and non-2xx/3xx answers. */
  socketErrors: number;
  non2xx: number;
  raw: string;
}

/** `wrk -t1 -cC -dDs --latency URL`, parsed. */
export async function wrk(url: string, options: { seconds: number; connections: number; threads?: number }): Promise<WrkResult> {
  const args = [`-t${options.threads ?? 1}`, `-c${options.connections}`, `-d${options.seconds}s`, '--latency', url];
  const { stdout } = await run('wrk', args, { timeout: (options.seconds + 30) * 1000 });
  return parseWrk(stdout);
}

export function parseWrk(text: string): WrkResult {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  const latency = (pct: string): number => {
    const match = new RegExp(`^\\s+${pct}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(text);
    if (!match) return NaN;
    const value = Number(match[1]);
    return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value;
  };
  const requests = Number(/(\d+) requests in/.exec(text)?.[1] ?? NaN);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = errors ? errors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  if (!Number.isFinite(rps)) throw new Error(`cannot read wrk's output:\n${text}`);
  return { rps, p50: latency('50'), p99: latency('99'), requests, socketErrors, non2xx, raw: text };
}

export interface DnsperfResult {
  qps: number;
  sent: number;
  completed: number;
  lost: number;
  /** Average latency in milliseconds. */
  avgLatencyMs: number;
  /** Answers by rcode, as dnsperf counts them. */
  rcodes: string;
  raw: string;
}

/** `dnsperf -s HOST -p PORT -d FILE -l SECONDS -c CLIENTS`, parsed. */
export async function dnsperf(host: string, port: number, file: string, options: { seconds: number; clients: number }): Promise<DnsperfResult> {
  const args = ['-s', host, '-p', String(port), '-d', file, '-l', String(options.seconds), '-c', String(options.clients)];
  const { stdout } = await run('dnsperf', args, { timeout: (options.seconds + 30) * 1000 });
  const number = (re: RegExp): number => Number(re.exec(stdout)?.[1] ?? NaN);
  const qps = number(/Queries per second:\s+([\d.]+)/);
  if (!Number.isFinite(qps)) throw new Error(`cannot read dnsperf's output:\n${stdout}`);
  return {
    qps,
    sent: number(/Queries sent:\s+(\d+)/),
    completed: number(/Queries completed:\s+(\d+)/),
    lost: number(/Queries lost:\s+(\d+)/),
    avgLatencyMs: number(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    rcodes: /Response codes:\s+(.*)/.exec(stdout)?.[1]?.trim() ?? '',
    raw: stdout,
  };
}
