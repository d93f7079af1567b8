// The peers that are plain HAProxy: a hand-written minimal configuration (what an operator writes for
// one service of two servers, with the usual timeouts, retries and redispatch), run by the bench itself
// as one foreground process (`haproxy -f FILE -db`, no master, no runtime API). For the churn part the
// same configuration is regenerated with the new servers on each change and HAProxy is restarted, as
// marathon-lb did before seamless reloads: `restart` stops the old process (SIGUSR1, a soft stop: it
// closes its listener, finishes the requests in flight) and starts a new one once it has exited;
// `reload-sf` is marathon-lb's own `haproxy -sf OLDPID` (the new process binds beside the old one,
// then tells it to finish), still a new process on every change.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { register } from './processes.ts';

export const HAPROXY = process.env.LB_BENCH_HAPROXY ?? '/usr/sbin/haproxy';

export interface PeerServer {
  name: string;
  port: number;
}

/** The hand-written configuration: one frontend on `port`, one backend of `servers`, round robin. */
export function handWrittenConfig(port: number, servers: readonly PeerServer[], mode: 'http' | 'tcp' = 'http'): string {
  return [
    'global',
    '  hard-stop-after 10s',
    '',
    'defaults',
    `  mode ${mode}`,
    '  retries 3',
    '  option redispatch',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    '',
    'frontend web',
    `  bind 127.0.0.1:${port}`,
    '  default_backend app',
    '',
    'backend app',
    '  balance roundrobin',
    ...servers.map((server) => `  server ${server.name} 127.0.0.1:${server.port}`),
    '',
  ].join('\n');
}

/** Resolves once something accepts connections on 127.0.0.1:port (polled every 2 ms). */
export async function waitListening(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** One plain HAProxy on a configuration file the bench writes. */
export class PlainHaproxy {
  private child: ChildProcess | null = null;
  private output = '';
  private readonly unregister: () => void;
  restarts = 0;

  constructor(
    readonly configFile: string,
    readonly port: number,
  ) {
    this.unregister = register(this);
  }

  /** The running HAProxy's pid (its one process: threads included), or null. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Writes the configuration and starts HAProxy on it; resolves once it accepts connections. */
  async start(config: string): Promise<void> {
    writeFileSync(this.configFile, config);
    this.child = this.spawn([]);
    await waitListening(this.port);
  }

  /** marathon-lb before seamless reloads, as `restart`: soft stop, wait for the exit, start anew. */
  async restart(config: string): Promise<void> {
    writeFileSync(this.configFile, config);
    const old = this.child;
    if (old !== null) {
      const exited = exitOf(old);
      old.kill('SIGUSR1');
      await exited;
    }
    this.child = this.spawn([]);
    await waitListening(this.port);
    this.restarts += 1;
  }

  /** marathon-lb's `haproxy -sf OLDPID`: a new process takes the port beside the old one, which then finishes. */
  async reloadSf(config: string): Promise<void> {
    writeFileSync(this.configFile, config);
    const old = this.child;
    const next = this.spawn(old?.pid === undefined ? [] : ['-sf', String(old.pid)]);
    this.child = next;
    // The new process tells the old one to finish once its own listener is bound; a probe would be
    // answered by the old one meanwhile, so wait for the old one's exit (or 500 ms: it may have clients).
    if (old !== null) await Promise.race([exitOf(old), new Promise((r) => setTimeout(r, 500))]);
    await waitListening(this.port);
    this.restarts += 1;
  }

  async stop(): Promise<void> {
    this.unregister();
    const child = this.child;
    this.child = null;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const exited = exitOf(child);
    child.kill('SIGUSR1');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  private spawn(extra: string[]): ChildProcess {
    // A session of its own, as the managed HAProxy (and a service) runs: see processes.ts on autogroups.
    const child = spawn(HAPROXY, ['-f', this.configFile, '-db', ...extra], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const keep = (d: Buffer): void => void (this.output = (this.output + d.toString()).slice(-4000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.once('exit', (code, signal) => {
      if (this.child === child) {
        this.child = null;
        if (code !== 0 || signal !== null) process.stderr.write(`haproxy (${this.configFile}) exited unexpectedly (${code ?? signal}):\n${this.output}\n`);
      }
    });
    return child;
  }
}

function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}
