// One small check per probe kind, each saying why it failed: an HTTP(S) GET that must answer 2xx or 3xx
// (or a status the probe names), a TCP connection that must open, a command that must exit 0. A new probe kind is one entry here.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { ProbeKind, ProbeSpec } from '../../probes/probe-spec.ts';

/** Where a task is reached from its agent, and how to run a command beside it. */
export interface ProbeTarget {
  /** The address the agent reaches the task's ports on (it publishes them on its own host). */
  host: string;
  /** The task's host ports, PORT0 first. */
  ports: readonly number[];
  /** Runs a command beside the task, killed after timeoutMs: its exit code, and a little of its output. */
  runCommand?(command: string, timeoutMs: number): Promise<{ exitCode: number | null; output: string }>;
}

export type ProbeCheck = (spec: ProbeSpec, target: ProbeTarget, signal: AbortSignal) => Promise<true | string>;

/**
 * GET on the task's port, over plain HTTP or TLS; a status in `statuses` (by default 200-399) passes.
 * node:http(s) rather than fetch: an HTTPS probe must not check the task's certificate (often its own,
 * self-signed; Marathon's HTTPS checks do not either), and one connection per try, not kept alive.
 */
function webCheck(scheme: 'http' | 'https'): ProbeCheck {
  return async (spec, target, signal) => {
    const port = target.ports[spec.portIndex ?? 0];
    const url = `${scheme}://${hostForUrl(target.host)}:${port}${spec.path ?? '/'}`;
    try {
      const status = await getStatus(url, signal);
      const passes = spec.statuses ? spec.statuses.includes(status) : status >= 200 && status < 400;
      return passes ? true : `GET ${url} answered ${status}`;
    } catch (err) {
      return `GET ${url}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    }
  };
}

function getStatus(url: string, signal: AbortSignal): Promise<number> {
  const get = url.startsWith('https:') ? https.get : http.get;
  return new Promise((resolve, reject) => {
    const request = get(url, { agent: false, signal, rejectUnauthorized: false, headers: { 'user-agent': 'gantry-probe' } }, (response) => {
      resolve(response.statusCode ?? 0);
      response.destroy(); // the body is not read
    });
    request.once('error', reject);
  });
}

const tcpCheck: ProbeCheck = (spec, target, signal) => {
  const port = target.ports[spec.portIndex ?? 0]!;
  return new Promise((resolve) => {
    const socket = net.connect({ host: target.host, port });
    const finish = (outcome: true | string): void => {
      socket.destroy();
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const onAbort = (): void => finish(`no connection to ${target.host}:${port} in time`);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish(true));
    socket.once('error', (err: NodeJS.ErrnoException) => finish(`connect ${target.host}:${port}: ${err.code ?? err.message}`));
  });
};

const commandCheck: ProbeCheck = async (spec, target) => {
  if (!target.runCommand) return 'this task\'s driver cannot run a probe command';
  const { exitCode, output } = await target.runCommand(spec.command!, spec.timeoutMs);
  if (exitCode === 0) return true;
  const said = output.trim().split('\n').at(-1)?.slice(0, 200);
  return `${JSON.stringify(spec.command)} exited with ${exitCode === null ? 'a signal' : exitCode}${said ? `: ${said}` : ''}`;
};

export const PROBE_CHECKS: Readonly<Record<ProbeKind, ProbeCheck>> = {
  http: webCheck('http'),
  https: webCheck('https'),
  tcp: tcpCheck,
  command: commandCheck,
};

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
