// Gantry's side: `./bin/gantry server` as its own process (embedded agent, SQLite in a fresh temporary
// data directory, loopback ports, log level warn), a small JSON client for its API, and the job
// definitions the benchmark posts.
import path from 'node:path';
import { spawnGantryAgent, spawnGantryServer, type GantryAgent, type GantryServer } from '../shared/gantry-process.ts';
export type { GantryServer };
import { dailyName, dailySchedule, frequentName, isoSeconds, type Workload } from './workload.ts';
import { apiCall, type ApiAnswer } from '../shared/api-call.ts';

export const ADMIN_TOKEN = 'gat_bench-batch-admin-token-0123456789abcdef';
const JOIN_TOKEN = 'gjt_bench-batch-join-token-0123456789abcdef';
/** Large enough that no run ever waits for resources: the benchmark measures the scheduler. */
export const AGENT_RESOURCES = 'cpus:1000;mem:1048576;disk:104857600';

/**
 * Starts the server; with `localAgent: false` it runs without its embedded agent (start one with
 * startGantryAgent), to see what the agent's work costs the scheduler's process.
 */
export async function startGantryServer(dataDir: string, opts: { cpuProfDir?: string; localAgent?: boolean } = {}): Promise<GantryServer> {
  const localAgent = opts.localAgent ?? true;
  return spawnGantryServer({
    nodeArgs: opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : [],
    serverArgs: [
      '--data-dir', dataDir,
      '--listen', '127.0.0.1:0',
      '--registry-listen', '127.0.0.1:0',
      '--log-level', 'warn',
      ...(localAgent ? ['--agent-resources', AGENT_RESOURCES] : ['--no-local-agent']),
    ],
    env: { ...process.env, GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
    localAgent,
  });
}

/** `gantry agent` in its own process, joined to the server at `url`. */
export function startGantryAgent(url: string, dataDir: string): Promise<GantryAgent> {
  return spawnGantryAgent({ url, joinToken: JOIN_TOKEN, dataDir, hostname: 'bench-agent', resources: AGENT_RESOURCES });
}

/** A JSON call to the platform API with the admin token; `ms` includes reading the whole body. */
export function call<T = unknown>(url: string, method: string, route: string, body?: unknown): Promise<ApiAnswer<T>> {
  return apiCall<T>(ADMIN_TOKEN, url, method, route, body);
}

/** The line every job appends: its name, the occurrence, the time its shell started. */
export const recordCommand = (file: string): string => `echo "$GANTRY_JOB_NAME $GANTRY_SCHEDULED_TIME $(date +%s.%N)" >> ${file}`;

export function dailyJob(w: Workload, i: number, dayStart: number, file: string): Record<string, unknown> {
  return { name: dailyName(i), command: recordCommand(file), schedule: dailySchedule(dayStart, w.dailySeconds[i]!), owner: 'bench@example.com', description: 'daily' };
}

export function frequentJob(i: number, start: number, periodS: number, file: string, keepRuns: number): Record<string, unknown> {
  return {
    name: frequentName(i),
    command: recordCommand(file),
    schedule: `R/${isoSeconds(start)}/PT${periodS}S`,
    owner: 'bench@example.com',
    description: `every ${periodS} s`,
    // The default keeps 100 finished runs per job; a long run needs all of its runs to count them.
    ...(keepRuns > 100 ? { history: { successful: keepRuns, failed: keepRuns } } : {}),
  };
}

/**
 * Posts the definitions `concurrency` at a time; resolves with the wall time (ms) and each request's
 * latency. Throws on the first answer that is not 201.
 */
export async function postAll(url: string, jobs: ReadonlyArray<Record<string, unknown>>, concurrency: number, onProgress?: (done: number) => void): Promise<{ ms: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      const answer = await call(url, 'POST', '/api/v1/jobs', job);
      if (answer.status !== 201) throw new Error(`POST /api/v1/jobs ${String(job.name)}: ${answer.status} ${JSON.stringify(answer.body)}`);
      latencies.push(answer.ms);
      if (latencies.length % 500 === 0) onProgress?.(latencies.length);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ms: performance.now() - started, latencies };
}

export interface RunRecord {
  id: string;
  jobName: string;
  runKey: string;
  scheduledAt: string;
  state: string;
  taskId: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  reason: string | null;
}

/** Every run of a job the API still has (up to 1,000, newest first). */
export async function runsOf(url: string, job: string): Promise<RunRecord[]> {
  const answer = await call<{ runs: RunRecord[] }>(url, 'GET', `/api/v1/jobs/${job}/runs?limit=1000`);
  if (answer.status !== 200) throw new Error(`GET runs of ${job}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.runs;
}

export interface TaskTimes {
  createdAt: string;
  stagedAt: string | null;
  startedAt: string | null;
}

/** A pool task's timestamps (created by the submit, staged on an agent, reported running). */
export async function taskTimes(url: string, taskId: string): Promise<TaskTimes | undefined> {
  const answer = await call<TaskTimes>(url, 'GET', `/api/v1/tasks/${taskId}`);
  return answer.status === 200 ? answer.body : undefined;
}
