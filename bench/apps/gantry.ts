// Gantry's side: `./bin/gantry server` as its own process (SQLite in a fresh temporary data directory,
// loopback ports), a JSON client for the Marathon API (/v2) with the admin token, a follower of
// /v2/events that keeps every event with the time it arrived, the app definitions the bench posts, and a
// cleanup that leaves no instance behind even when the server failed (containers by their sandbox label,
// exec tasks by the process group their task.json names).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { ROOT, spawnGantryServer, type GantryServer } from '../shared/gantry-process.ts';
import { docker } from './image.ts';
import { apiCall, type ApiAnswer } from '../shared/api-call.ts';

export type { GantryServer };

export const ADMIN_TOKEN = 'gat_bench-apps-admin-token-0123456789abcdef';
export const JOIN_TOKEN = 'gjt_bench-apps-join-token-0123456789abcdef';

export interface ServerOptions {
  dataDir: string;
  /** The embedded agent's resources (Mesos syntax), or null for none (hollow agents join instead). */
  agentResources: string | null;
  logLevel: string;
  extraArgs?: string[];
}

/** Node options for every server the bench starts (run.ts --cpu-prof-dir sets --cpu-prof). */
export const serverNodeArgs: string[] = [];

/**
 * Starts the server. `--drain-on-stop`: a stop kills the embedded agent's tasks instead of leaving them
 * running for the next start (the bench removes its apps first; this is the safety net).
 */
export async function startServer(opts: ServerOptions): Promise<GantryServer> {
  const localAgent = opts.agentResources !== null;
  live.dataDirs.add(opts.dataDir);
  const server = await spawnGantryServer({
    nodeArgs: serverNodeArgs,
    serverArgs: [
      '--data-dir', opts.dataDir,
      '--listen', '127.0.0.1:0',
      '--registry-listen', '127.0.0.1:0',
      '--log-level', opts.logLevel,
      ...(localAgent ? ['--agent-resources', opts.agentResources!, '--drain-on-stop'] : ['--no-local-agent']),
      ...(opts.extraArgs ?? []),
    ],
    env: { ...process.env, GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
    localAgent,
  });
  live.servers.add(server);
  const stop = server.stop;
  server.stop = async () => {
    await stop();
    live.servers.delete(server);
  };
  return server;
}

/** What is running or on disk right now, for a stop by signal (run.ts): servers, their data directories. */
export const live = { servers: new Set<GantryServer>(), dataDirs: new Set<string>() };

/** Whether bin/gantry runs the compiled dist/ (as it decides: dist/.built newer than every file of src/). */
export function runsCompiled(): boolean {
  if (process.env.GANTRY_FROM_SOURCE === '1') return false;
  try {
    const built = statSync(path.join(ROOT, 'dist', '.built')).mtimeMs;
    let newest = 0;
    for (const entry of readdirSync(path.join(ROOT, 'src'), { withFileTypes: true, recursive: true })) {
      if (entry.isFile()) newest = Math.max(newest, statSync(path.join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
    }
    return built >= newest;
  } catch {
    return false;
  }
}

export type Answer<T> = ApiAnswer<T>;

/** A JSON call with the admin token; `ms` includes reading the whole body. */
export function call<T = any>(url: string, method: string, route: string, body?: unknown): Promise<Answer<T>> {
  return apiCall<T>(ADMIN_TOKEN, url, method, route, body);
}

/** Throws with the answer when its status is not one of `ok`. */
export function expectStatus<T>(what: string, answer: Answer<T>, ...ok: number[]): Answer<T> {
  if (!ok.includes(answer.status)) throw new Error(`${what}: ${answer.status} ${typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body)}`.slice(0, 4000));
  return answer;
}

// ---- /v2/events ---------------------------------------------------------------------------------

export interface ReceivedEvent {
  type: string;
  data: any;
  /** Date.now() when the event arrived. */
  at: number;
}

/** Follows /v2/events (Server-Sent Events) until stopped, keeping every event. */
export class EventFollower {
  readonly events: ReceivedEvent[] = [];
  private readonly abort = new AbortController();
  private readonly listeners = new Set<(event: ReceivedEvent) => void>();
  private done: Promise<void> = Promise.resolve();

  static async start(url: string, types: string[] = []): Promise<EventFollower> {
    const follower = new EventFollower();
    const query = types.map((t) => `event_type=${encodeURIComponent(t)}`).join('&');
    const response = await fetch(`${url}/v2/events${query ? `?${query}` : ''}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: 'text/event-stream' },
      signal: follower.abort.signal,
    });
    if (response.status !== 200 || !response.body) throw new Error(`GET /v2/events: ${response.status} ${await response.text()}`);
    follower.done = follower.read(response.body);
    return follower;
  }

  on(listener: (event: ReceivedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.done.catch(() => undefined);
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    let type = 'message';
    let data: string[] = [];
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (line === '') {
            if (data.length > 0) {
              const event: ReceivedEvent = { type, data: safeJson(data.join('\n')), at: Date.now() };
              this.events.push(event);
              for (const listener of this.listeners) listener(event);
            }
            type = 'message';
            data = [];
          } else if (line.startsWith('event:')) type = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
      }
    } catch (err) {
      if (!this.abort.signal.aborted) throw err;
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// ---- app definitions ------------------------------------------------------------------------------

export interface HealthSettings {
  intervalSeconds: number;
  timeoutSeconds: number;
  maxConsecutiveFailures: number;
  gracePeriodSeconds: number;
}

/** A Marathon app running the HTTP image on the bridge network, container port → any free host port. */
export function dockerWebApp(id: string, opts: { image: string; instances: number; containerPort: number; page: string; env: Record<string, string>; health: HealthSettings; upgradeStrategy: { minimumHealthCapacity: number; maximumOverCapacity: number }; killGraceSeconds: number }): Record<string, unknown> {
  return {
    id,
    instances: opts.instances,
    cpus: 0.01,
    mem: 16,
    disk: 0,
    container: {
      type: 'DOCKER',
      docker: { image: opts.image, forcePullImage: false },
      portMappings: [{ containerPort: opts.containerPort, hostPort: 0, protocol: 'tcp', name: 'http' }],
    },
    networks: [{ mode: 'container/bridge' }],
    env: opts.env,
    healthChecks: [{ protocol: 'HTTP', path: opts.page, portIndex: 0, ...opts.health }],
    upgradeStrategy: opts.upgradeStrategy,
    taskKillGracePeriodSeconds: opts.killGraceSeconds,
  };
}

// ---- reading an app's state -----------------------------------------------------------------------

export interface MarathonTask {
  id: string;
  state: string;
  version: string;
  stagedAt?: string;
  startedAt?: string;
  ports?: number[];
  healthCheckResults?: Array<{ alive: boolean }>;
}

export const isHealthy = (t: MarathonTask): boolean => t.state === 'TASK_RUNNING' && (t.healthCheckResults ?? []).some((r) => r.alive);

/** The app's tasks (GET /v2/apps/ID embeds them). */
export async function appTasks(url: string, appId: string): Promise<MarathonTask[]> {
  const answer = expectStatus(`GET /v2/apps${appId}`, await call<{ app: { tasks?: MarathonTask[] } }>(url, 'GET', `/v2/apps${appId}`), 200);
  return answer.body.app.tasks ?? [];
}

/** Marathon's counts of one app from the list (no tasks embedded: cheap to poll). */
export async function appCounts(url: string, appId: string): Promise<{ tasksRunning: number; tasksHealthy: number; tasksStaged: number; tasksUnhealthy: number }> {
  const answer = expectStatus('GET /v2/apps', await call<{ apps: Array<{ id: string; tasksRunning: number; tasksHealthy: number; tasksStaged: number; tasksUnhealthy: number }> }>(url, 'GET', `/v2/apps?id=${encodeURIComponent(appId)}`), 200);
  const app = answer.body.apps.find((a) => a.id === appId);
  if (!app) throw new Error(`app ${appId} is not listed`);
  return app;
}

/** Polls `probe` every `everyMs` until it answers true; throws after `timeoutMs` with `what` and the last state. */
export async function pollUntil(probe: () => Promise<boolean>, opts: { timeoutMs: number; everyMs: number; what: string; state?: () => string }): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await probe()) return Date.now();
    if (Date.now() - started > opts.timeoutMs) throw new Error(`timed out after ${Math.round(opts.timeoutMs / 1000)} s waiting for ${opts.what}${opts.state ? ` (${opts.state()})` : ''}`);
    await new Promise((r) => setTimeout(r, opts.everyMs));
  }
}

// ---- cleanup ----------------------------------------------------------------------------------------

/**
 * What a server of this data directory may have left running: containers whose gantry.sandbox label
 * lies under it, exec tasks whose task.json lies under it (their group killed if the leader is still
 * the process the record names: pid and start time). Returns what it removed.
 */
export async function removeLeftovers(dataDir: string): Promise<{ containers: number; processes: number }> {
  let containers = 0;
  const listed = await docker(['ps', '-a', '--filter', 'label=gantry.sandbox', '--format', '{{.ID}} {{.Label "gantry.sandbox"}}']).catch(() => '');
  const ours = listed
    .split('\n')
    .map((line) => line.trim().split(' '))
    .filter(([id, sandbox]) => id && sandbox?.startsWith(dataDir + path.sep))
    .map(([id]) => id!);
  for (let i = 0; i < ours.length; i += 50) {
    await docker(['rm', '-f', ...ours.slice(i, i + 50)]).catch(() => undefined);
    containers += Math.min(50, ours.length - i);
  }
  let processes = 0;
  const cgroupDirs: string[] = [];
  const sandboxes = path.join(dataDir, 'agent', 'sandboxes');
  if (existsSync(sandboxes)) {
    for (const name of readdirSync(sandboxes)) {
      try {
        const record = JSON.parse(readFileSync(path.join(sandboxes, name, 'task.json'), 'utf8')) as { pid: number; pgid: number; startTime: number; cgroups?: Record<string, { dir?: string } | undefined> };
        // The task's cgroups, which the agent removes at a task's end: it did not get there.
        for (const cg of Object.values(record.cgroups ?? {})) if (cg?.dir && !cgroupDirs.includes(cg.dir)) cgroupDirs.push(cg.dir);
        if (processStartTime(record.pid) !== record.startTime) continue;
        process.kill(-record.pgid, 'SIGKILL');
        processes++;
      } catch {
        // no record, or the task has ended
      }
    }
  }
  if (cgroupDirs.length > 0) {
    await new Promise((r) => setTimeout(r, 1000)); // the killed processes leave their cgroups
    for (const dir of cgroupDirs) await rmdir(dir).catch(() => undefined); // fails while not empty: left
  }
  return { containers, processes };
}

function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return undefined;
  }
}

/** Removes what a server of this data directory left running, then the directory. */
export async function discardDataDir(dataDir: string): Promise<void> {
  const left = await removeLeftovers(dataDir);
  if (left.containers + left.processes > 0) console.log(`   cleanup: removed ${left.containers} containers and killed ${left.processes} task process groups a server left`);
  // A launcher helper may still be writing a killed task's exit file: try again for a few seconds.
  for (let attempt = 1; ; attempt++) {
    try {
      await rm(dataDir, { recursive: true, force: true });
      break;
    } catch (err) {
      if (attempt >= 10) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  live.dataDirs.delete(dataDir);
}
