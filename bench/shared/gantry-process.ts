// `./bin/gantry server` as its own process for the benchmarks: started with the given flags and
// environment, ready once it prints its "listening on" line (and, when it has one, once its local
// agent registered), stopped with SIGTERM then SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface GantryServer {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Milliseconds from spawn to the "listening on" line (store opened, state loaded, loops started). */
  startMs: number;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Spawns node with `nodeArgs` then `bin/gantry server` and `serverArgs`. With `localAgent`, also
 * waits for the embedded agent, which registers right after the API listens (work posted before
 * would wait for it).
 */
export async function spawnGantryServer(opts: { nodeArgs?: string[]; serverArgs: string[]; env: NodeJS.ProcessEnv; localAgent: boolean }): Promise<GantryServer> {
  const args = [...(opts.nodeArgs ?? []), path.join(ROOT, 'bin/gantry'), 'server', ...opts.serverArgs];
  const started = performance.now();
  // Several servers may run at once (peers): the DNS server takes any free port. Instances stop
  // without a drain delay, as the peers' do, unless the bench's env asks for one.
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { GANTRY_DNS_LISTEN: '127.0.0.1:0', GANTRY_APP_DRAIN_DELAY: '0', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gantry server not ready after 120 s:\n${out}`)), 120_000);
    const check = (): void => {
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off('data', check);
      resolve(match[1]!);
    };
    child.stdout!.on('data', check);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`gantry server exited (${code ?? signal}) before it was ready:\n${out}`));
    });
  });
  const startMs = performance.now() - started;
  if (opts.localAgent) await waitFor(async () => /Local agent \S+ registered/.test(out), 30_000, 'the local agent');
  return { url, pid: child.pid ?? 0, child, startMs, output: () => out, stop: stopper(child) };
}

export interface GantryAgent {
  pid: number;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** `./bin/gantry agent` in its own process, joined to the master at `url`; ready once it says so. */
export async function spawnGantryAgent(opts: { url: string; joinToken: string; dataDir: string; hostname: string; resources: string; extraArgs?: string[] }): Promise<GantryAgent> {
  const args = [
    path.join(ROOT, 'bin/gantry'), 'agent',
    '--master', opts.url,
    '--join-token', opts.joinToken,
    '--data-dir', opts.dataDir,
    '--resources', opts.resources,
    '--hostname', opts.hostname,
    '--log-level', 'warn',
    ...(opts.extraArgs ?? []),
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`gantry agent exited with ${child.exitCode}:\n${out}`);
    return /Agent \S+ joined/.test(out);
  }, 30_000, 'the agent to join');
  return { pid: child.pid ?? 0, child, output: () => out, stop: stopper(child) };
}

/** SIGTERM, then SIGKILL after 30 s; resolves once the process is gone. */
export function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
}

export async function waitFor(probe: () => Promise<boolean> | boolean, timeoutMs: number, what: string, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
