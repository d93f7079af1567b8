// Part 2: one app of N instances on the exec driver (the server's embedded agent), until all healthy.
//
// Each instance is a real process: busybox httpd listening on 127.0.0.1:$PORT0 (its allocated port),
// checked by a TCP health check (the agent connects to the port). Why this and not node or sleep: a
// node process is ~40 MiB and ~0.3 CPU-second to start, 1,000 of them would measure the machine; a
// bare `sleep` has nothing to check but a COMMAND check, which forks a shell per check; httpd is a
// server that listens (what an app is), a ~1 MiB static binary, idle between checks, and a TCP check
// is the cheapest real check (a connect, httpd forks one short child per connection).
//
// Measured: POST → all N healthy (and when the last was submitted, placed, reported running), the
// server process's CPU seconds over that time (/proc/PID/stat: the master and the embedded agent are
// one process), its CPU while the N instances just run (probes and output tails), VmRSS and VmHWM,
// GET /v2/apps?embed=apps.tasks with the N instances, and DELETE → all ended. A timeline (every
// 10 s: instances running and healthy, server CPU and RSS, load) shows how the rate changes with N.
//
// Bounded, because the machine is shared: the deploy is given `deployLimitMs` and the DELETE
// `deleteLimitMs`; past them the figures say how far it got, and the cleanup kills what is left (the
// server is stopped with --drain-on-stop, then the task processes still named by their task.json).
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { memoryKiB } from '../shared/proc.ts';
import { summarize, type Summary } from '../shared/stats.ts';
import { appCounts, call, discardDataDir, EventFollower, expectStatus, startServer, type GantryServer } from './gantry.ts';
import { CpuMeter, cpuSeconds } from './machine.ts';
import { activeTasks, failedDeployment, serverProblems, withServerLog } from './web-compare.ts';

export interface ExecSettings {
  /** What the pass is called in the table. */
  label: string;
  /** --agent-usage-interval for the server, or undefined for its default (10 s). */
  usageInterval?: string;
  /** The pass stops waiting when the server's VmRSS exceeds this (MiB): the machine is shared. */
  maxRssMiB: number;
  instances: number;
  healthIntervalS: number;
  logLevel: string;
  deployLimitMs: number;
  deleteLimitMs: number;
  idleSeconds: number;
  getRequests: number;
}

export interface TimelinePoint {
  s: number;
  running: number;
  healthy: number;
  unhealthy: number;
  serverCpu: number;
  rssMiB: number;
  load: number;
}

export interface ExecResult {
  label: string;
  instances: number;
  /** POST → all healthy, or undefined when the limit came first (then `healthyAtLimit`). */
  ms?: number;
  healthyAtLimit?: number;
  lastSubmittedMs?: number;
  lastStagedMs?: number;
  lastRunningMs?: number;
  runningToHealthyP50?: number;
  runningToHealthyMax?: number;
  deployCpu: { server: number; machine: number; wall: number };
  idleCpuPercent?: number;
  idleMachinePercent?: number;
  rssAfterDeployMiB: number;
  rssAfterIdleMiB?: number;
  hwmMiB: number;
  list: Summary & { bytes: number; tasks: number };
  /** DELETE → all ended, or undefined when the limit came first (then `endedAtLimit`). */
  removeMs?: number;
  endedAtLimit?: number;
  timeline: TimelinePoint[];
  notes: string[];
  logLines: string[];
}

const APP_ID = '/bench/exec';

export function execApp(id: string, instances: number, healthIntervalS: number, cpus = 0.01, mem = 16): Record<string, unknown> {
  return {
    id,
    instances,
    cpus,
    mem,
    disk: 0,
    cmd: 'exec /bin/busybox httpd -f -p 127.0.0.1:$PORT0 -h .',
    portDefinitions: [{ port: 0, name: 'http', protocol: 'tcp' }],
    healthChecks: [{ protocol: 'TCP', portIndex: 0, gracePeriodSeconds: 60, intervalSeconds: healthIntervalS, timeoutSeconds: Math.min(2, healthIntervalS), maxConsecutiveFailures: 3 }],
    taskKillGracePeriodSeconds: 5,
  };
}

type Counts = Awaited<ReturnType<typeof appCounts>>;

export async function runExecScale(s: ExecSettings): Promise<ExecResult> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-apps-exec-'));
  const notes: string[] = [];
  const timeline: TimelinePoint[] = [];
  let server: GantryServer | undefined;
  let events: EventFollower | undefined;
  let sampler: NodeJS.Timeout | undefined;
  let overLimit: string | null = null;
  let counts: Counts = { tasksRunning: 0, tasksHealthy: 0, tasksStaged: 0, tasksUnhealthy: 0 };
  const ports = Math.max(1000, s.instances * 2);
  const resources = `cpus:${Math.max(2, Math.ceil(s.instances * 0.01 * 2))};mem:${Math.max(4096, s.instances * 16 * 2)};disk:10240;ports:[22000-${22000 + ports - 1}]`;
  try {
    server = await startServer({ dataDir, agentResources: resources, logLevel: s.logLevel, extraArgs: s.usageInterval ? ['--agent-usage-interval', s.usageInterval] : [] });
    const url = server.url;
    const pid = server.pid;
    events = await EventFollower.start(url, ['health_status_changed_event', 'deployment_failed', 'unhealthy_instance_kill_event', 'unhealthy_instances_spared_event']);
    const meter = new CpuMeter(pid);
    const t0 = Date.now();
    // The timeline, from the last counts read (the wait below reads them every 500 ms).
    sampler = setInterval(() => {
      const rss = (memoryKiB(pid)?.rss ?? 0) / 1024;
      if (rss > s.maxRssMiB && !overLimit) overLimit = `the server's VmRSS reached ${rss.toFixed(0)} MiB (limit ${s.maxRssMiB} MiB)`;
      timeline.push({ s: Math.round((Date.now() - t0) / 1000), running: counts.tasksRunning, healthy: counts.tasksHealthy, unhealthy: counts.tasksUnhealthy, serverCpu: cpuSeconds(pid) ?? NaN, rssMiB: rss, load: os.loadavg()[0]! });
    }, 10_000);

    expectStatus('POST /v2/apps', await call(url, 'POST', '/v2/apps', execApp(APP_ID, s.instances, s.healthIntervalS)), 201);
    let ms: number | undefined;
    // An overloaded server may answer an error or time out: noted with its time, and the wait goes on.
    const apiErrors: Array<{ s: number; error: string }> = [];
    while (Date.now() - t0 < s.deployLimitMs && !overLimit) {
      failedDeployment(events);
      try {
        counts = await appCounts(url, APP_ID);
      } catch (err) {
        apiErrors.push({ s: Math.round((Date.now() - t0) / 1000), error: (err as Error).message.slice(0, 300) });
      }
      if (counts.tasksHealthy >= s.instances) {
        ms = Date.now() - t0;
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    if (apiErrors.length > 0) notes.push(`the counts poll failed ${apiErrors.length} times during the deploy, first at +${apiErrors[0]!.s} s, last at +${apiErrors.at(-1)!.s} s: ${apiErrors[0]!.error}`);
    const deployCpu = meter.used();
    const afterDeploy = memoryKiB(pid);
    if (ms === undefined) notes.push(`not all healthy: ${counts.tasksHealthy} of ${s.instances} healthy (${counts.tasksRunning} running) after ${((Date.now() - t0) / 1000).toFixed(0)} s${overLimit ? `; ${overLimit}` : ''}`);

    // Where the time went: the pool's records (submitted by the app, placed, reported running) and the health events.
    type PoolTask = { id: string; createdAt: string; stagedAt: string | null; startedAt: string | null };
    const tasks =
      (await tolerate(notes, 'GET /api/v1/tasks', async () => expectStatus('GET /api/v1/tasks', await call<{ tasks: PoolTask[] }>(url, 'GET', `/api/v1/tasks?ownerPrefix=${encodeURIComponent(`app:${APP_ID}:`)}&limit=10000`), 200).body.tasks)) ?? [];
    const healthyAt = new Map<string, number>();
    for (const e of events.events) if (e.type === 'health_status_changed_event' && e.data?.alive === true && !healthyAt.has(e.data.taskId)) healthyAt.set(e.data.taskId, Date.parse(e.data.timestamp));
    const lastAfterT0 = (values: Array<string | null>): number | undefined => {
      const v = values.filter((x): x is string => x !== null).map((x) => Date.parse(x) - t0);
      return v.length ? Math.max(...v) : undefined;
    };
    const runningToHealthy = summarize(tasks.filter((t) => t.startedAt && healthyAt.has(t.id)).map((t) => healthyAt.get(t.id)! - Date.parse(t.startedAt!)));

    // Running idle: what N probed, tailed instances cost the server.
    let idle: ReturnType<CpuMeter['used']> | undefined;
    let afterIdle: ReturnType<typeof memoryKiB> = undefined;
    if (ms !== undefined) {
      const idleMeter = new CpuMeter(pid);
      await new Promise((r) => setTimeout(r, s.idleSeconds * 1000));
      idle = idleMeter.used();
      afterIdle = memoryKiB(pid);
    }
    const turnedUnhealthy = events.events.filter((e) => e.type === 'health_status_changed_event' && e.data?.alive === false).length;
    const killed = events.events.filter((e) => e.type === 'unhealthy_instance_kill_event').length;
    const spared = events.events.filter((e) => e.type === 'unhealthy_instances_spared_event').length;
    if (turnedUnhealthy + killed + spared > 0) notes.push(`health checks failed on the way: ${turnedUnhealthy} turns to unhealthy, ${killed} instances killed as unhealthy, ${spared} circuit-breaker events (none killed)`);

    // The listing with the N instances embedded.
    const latencies: number[] = [];
    let bytes = 0;
    let listed = 0;
    let listErrors = 0;
    for (let i = 0; i < s.getRequests; i++) {
      const answer = await call<{ apps: Array<{ tasks: unknown[] }> }>(url, 'GET', '/v2/apps?embed=apps.tasks').catch(() => null);
      if (answer?.status !== 200) {
        listErrors++;
        continue;
      }
      listed = answer.body.apps[0]?.tasks.length ?? 0;
      latencies.push(answer.ms);
      bytes = answer.bytes;
    }
    if (listErrors > 0) notes.push(`${listErrors} of ${s.getRequests} listings failed (an error status or no answer)`);
    const hwm = memoryKiB(pid)?.hwm ?? NaN;

    // DELETE: every instance killed (grace 5 s).
    const removeStarted = Date.now();
    await tolerate(notes, 'DELETE', async () => expectStatus(`DELETE /v2/apps${APP_ID}`, await call(url, 'DELETE', `/v2/apps${APP_ID}`), 200));
    let removeMs: number | undefined;
    let active = s.instances;
    while (Date.now() - removeStarted < s.deleteLimitMs) {
      active = (await activeTasks(url, 'app:/bench/').catch(() => null)) ?? active;
      if (active === 0) {
        removeMs = Date.now() - removeStarted;
        break;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    if (removeMs === undefined) notes.push(`DELETE: ${s.instances - active} of ${s.instances} ended after ${Math.round(s.deleteLimitMs / 1000)} s (the rest were killed by the cleanup)`);
    const cpuNow = cpuSeconds(pid);
    if (cpuNow !== undefined) notes.push(`server CPU over its whole life: ${cpuNow.toFixed(1)} s`);

    return {
      label: s.label,
      instances: s.instances,
      ...(ms !== undefined ? { ms } : { healthyAtLimit: counts.tasksHealthy }),
      lastSubmittedMs: lastAfterT0(tasks.map((t) => t.createdAt)),
      lastStagedMs: lastAfterT0(tasks.map((t) => t.stagedAt)),
      lastRunningMs: lastAfterT0(tasks.map((t) => t.startedAt)),
      runningToHealthyP50: runningToHealthy.p50,
      runningToHealthyMax: runningToHealthy.max,
      deployCpu: { server: deployCpu.server, machine: deployCpu.machine, wall: deployCpu.wall },
      ...(idle ? { idleCpuPercent: (100 * idle.server) / idle.wall, idleMachinePercent: (100 * idle.machine) / idle.wall } : {}),
      rssAfterDeployMiB: (afterDeploy?.rss ?? NaN) / 1024,
      ...(afterIdle ? { rssAfterIdleMiB: afterIdle.rss / 1024 } : {}),
      hwmMiB: hwm / 1024,
      list: { ...summarize(latencies), bytes, tasks: listed },
      ...(removeMs !== undefined ? { removeMs } : { endedAtLimit: s.instances - active }),
      timeline,
      notes,
      logLines: serverProblems(server.output()),
    };
  } catch (err) {
    throw withServerLog(err, server);
  } finally {
    clearInterval(sampler);
    await events?.stop();
    if (server) {
      await call(server.url, 'DELETE', `/v2/apps${APP_ID}?force=true`).catch(() => undefined);
      await server.stop(); // --drain-on-stop: its agent kills what still runs (30 s, then SIGKILL)
    }
    await discardDataDir(dataDir); // kills what the drain did not
  }
}

/** Runs `work`; on an error notes it (what failed and why) and answers undefined: an overloaded server's answer is a finding. */
async function tolerate<T>(notes: string[], what: string, work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (err) {
    notes.push(`${what} failed: ${(err as Error).message.slice(0, 300)}`);
    return undefined;
  }
}
