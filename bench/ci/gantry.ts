// Gantry's side: `./bin/gantry server` as its own process (embedded agent with room for every step,
// SQLite in a fresh temporary data directory, loopback ports, log level warn, a webhook secret, the
// benchmark's pipelines directory), and a small JSON client for its API.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ADMIN_TOKEN = 'gat_bench-ci-admin-token-0123456789abcdef';
const JOIN_TOKEN = 'gjt_bench-ci-join-token-0123456789abcdef';
export const WEBHOOK_SECRET = 'bench-ci-webhook-secret-0123456789';
/** Large enough that no step ever waits for resources: the benchmark measures the CI, not the queue. */
export const AGENT_RESOURCES = 'cpus:64;mem:65536;disk:1048576';

export interface GantryServer {
  url: string;
  pid: number;
  child: ChildProcess;
  startMs: number;
  output(): string;
  stop(): Promise<void>;
}

export async function startGantryServer(opts: { dataDir: string; pipelinesDir: string; cpuProfDir?: string; cpuProfInterval?: number }): Promise<GantryServer> {
  const args = [
    ...(opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : []),
    ...(opts.cpuProfDir && opts.cpuProfInterval ? ['--cpu-prof-interval', String(opts.cpuProfInterval)] : []),
    path.join(ROOT, 'bin/gantry'),
    'server',
    '--data-dir', opts.dataDir,
    '--listen', '127.0.0.1:0',
    '--registry-listen', '127.0.0.1:0',
    '--log-level', 'warn',
    '--agent-resources', AGENT_RESOURCES,
  ];
  const env = {
    ...process.env,
    GANTRY_ADMIN_TOKEN: ADMIN_TOKEN,
    GANTRY_JOIN_TOKEN: JOIN_TOKEN,
    GANTRY_GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
    GANTRY_PIPELINES_DIR: opts.pipelinesDir,
  };
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
  await waitFor(async () => /Local agent \S+ registered/.test(out), 30_000, 'the local agent');
  const stop = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  return { url, pid: child.pid ?? 0, child, startMs, output: () => out, stop };
}

export async function waitFor(probe: () => Promise<boolean> | boolean, timeoutMs: number, what: string, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A JSON GET on the platform API with the admin token. */
export async function get<T>(url: string, route: string): Promise<T> {
  const response = await fetch(url + route, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${route}: ${response.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

export interface RunRecord {
  id: string;
  pipeline: string;
  number: number;
  deliveryId: string | null;
  state: string;
  reason: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface StepRecord {
  name: string;
  position: number;
  state: string;
  taskId: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  reason: string | null;
}

export interface TaskTimes {
  id: string;
  state: string;
  createdAt: string;
  stagedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** What the driver enforced ("cgroup v1: memory 128 MiB, cpu 0.1"). */
  limits: string | null;
}

export interface DeliveryRecord {
  deliveryId: string;
  receivedAt: string;
  outcome: string;
  detail: string | null;
}

export const runsOf = (url: string, pipeline: string, limit = 20) => get<{ runs: RunRecord[] }>(url, `/api/v1/runs?pipeline=${encodeURIComponent(pipeline)}&limit=${limit}`).then((b) => b.runs);
export const runDetail = (url: string, id: string) => get<RunRecord & { steps: StepRecord[] }>(url, `/api/v1/runs/${id}`);
export const taskTimes = (url: string, id: string) => get<TaskTimes>(url, `/api/v1/tasks/${id}`);
export const deliveries = (url: string, limit = 1000) => get<{ deliveries: DeliveryRecord[] }>(url, `/api/v1/ci/deliveries?limit=${limit}`).then((b) => b.deliveries);

/** The run a delivery started for `pipeline`, once it exists and has ended. */
export async function finishedRunOf(url: string, pipeline: string, deliveryId: string, timeoutMs: number, everyMs = 100): Promise<RunRecord & { steps: StepRecord[] }> {
  let found: RunRecord | undefined;
  await waitFor(
    async () => {
      found = (await runsOf(url, pipeline)).find((r) => r.deliveryId === deliveryId);
      return found !== undefined && !['queued', 'running'].includes(found.state);
    },
    timeoutMs,
    `the run of delivery ${deliveryId} (${pipeline}) to end`,
    everyMs,
  );
  return runDetail(url, found!.id);
}
