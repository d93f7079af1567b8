// Gantry's side: `./bin/gantry server` as its own process (embedded agent with room for every step,
// SQLite in a fresh temporary data directory, loopback ports, log level warn, a webhook secret, the
// benchmark's pipelines directory), and a small JSON client for its API. Its steps run as the embedded
// agent's default task user (gantry-task when the benchmark runs as root), as a user's would. The
// benchmark's repository is a root-owned bare repository on the local disk, which git refuses to serve
// to another user ("dubious ownership"): the clone step never asks it, as it checks the pushed commit
// out from the server's mirror, which the planner fetched it into (bench/README.md, CI, 2026-12-07
// sixth session). The steps write their marks in a directory open to them (run.ts).
import { spawnGantryServer, waitFor, type GantryServer } from '../shared/gantry-process.ts';

export const ADMIN_TOKEN = 'gat_bench-ci-admin-token-0123456789abcdef';
const JOIN_TOKEN = 'gjt_bench-ci-join-token-0123456789abcdef';
export const WEBHOOK_SECRET = 'bench-ci-webhook-secret-0123456789';
/** Large enough that no step ever waits for resources: the benchmark measures the CI, not the queue. */
export const AGENT_RESOURCES = 'cpus:64;mem:65536;disk:1048576';

export type { GantryServer };

export async function startGantryServer(opts: { dataDir: string; pipelinesDir: string; cpuProfDir?: string; cpuProfInterval?: number }): Promise<GantryServer> {
  return spawnGantryServer({
    nodeArgs: [
      ...(opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : []),
      ...(opts.cpuProfDir && opts.cpuProfInterval ? ['--cpu-prof-interval', String(opts.cpuProfInterval)] : []),
    ],
    serverArgs: ['--data-dir', opts.dataDir, '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--log-level', 'warn', '--agent-resources', AGENT_RESOURCES],
    env: {
      ...process.env,
      GANTRY_ADMIN_TOKEN: ADMIN_TOKEN,
      GANTRY_JOIN_TOKEN: JOIN_TOKEN,
      GANTRY_GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
      GANTRY_PIPELINES_DIR: opts.pipelinesDir,
    },
    localAgent: true,
  });
}

export { waitFor };

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
