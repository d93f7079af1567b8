// Part 1: N instances of the HTTP image, Gantry (Marathon API, Docker driver) against a Docker Swarm
// service on the same engine, one after the other: deploy until all healthy, then a rolling update of
// all N (a changed environment variable) at the same parallelism P, until all new instances are healthy.
//
// The same parallelism on both sides (Swarm --update-parallelism P):
// - stop-first (Swarm's default order): Swarm stops P old tasks, starts their replacements, and takes
//   the next old one each time a new one runs healthy. Gantry: minimumHealthCapacity (N−P)/N and
//   maximumOverCapacity 0, i.e. at least N−P healthy and at most N instances: Marathon's arithmetic
//   kills P old ones at once, starts a new one for each that has ended, and kills one more old for each
//   new one healthy: P in flight, as Swarm.
// - start-first: Swarm starts P new ones first and stops an old one as each new one is healthy.
//   Gantry: minimumHealthCapacity 1, maximumOverCapacity P/N (at most N+P instances, never fewer than N
//   healthy): P new ones at once, an old one killed as each new one is healthy.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ContainerEvents, type ContainerTimes } from './container-events.ts';
import { appTasks, call, dockerWebApp, EventFollower, expectStatus, isHealthy, pollUntil, discardDataDir, startServer, type GantryServer, type MarathonTask, type ReceivedEvent } from './gantry.ts';
import { CONTAINER_PORT, PAGE } from './image.ts';
import { CpuMeter } from './machine.ts';
import { memoryKiB } from '../shared/proc.ts';
import { SwarmPeer } from './swarm.ts';

export interface WebSettings {
  image: string;
  instances: number;
  parallelism: number;
  order: 'stop-first' | 'start-first';
  healthIntervalS: number;
  logLevel: string;
  timeoutMs: number;
}

const HEALTH = { timeoutSeconds: 2, maxConsecutiveFailures: 3, gracePeriodSeconds: 60 };
const STOP_GRACE_S = 10;
const APP_ID = '/bench/web';

export interface Breakdown {
  /** ms after the phase's start at which the last instance reached each stage (undefined: not seen). */
  lastCreated?: number;
  lastStarted?: number;
  lastRunning?: number;
  lastHealthy?: number;
  /** Per instance, container start → healthy, p50 (ms). */
  startToHealthyP50?: number;
  /** Per instance, container created → started (the engine's start), p50 (ms). */
  createdToStartedP50?: number;
  /** Update: an old container's end → the next new container started, p50 (ms). */
  oldEndToNewStartedP50?: number;
}

export interface PhaseFigures {
  ms: number;
  breakdown: Breakdown;
  cpu: { server: number; engine: number; machine: number; wall: number };
}

export interface ContenderResult {
  deploy: PhaseFigures;
  update: PhaseFigures;
  notes: string[];
  /** Server log lines worth showing (warnings and errors), Gantry only. */
  logLines?: string[];
  rssMiB?: { rss: number; hwm: number };
}

export function upgradeStrategyFor(instances: number, parallelism: number, order: 'stop-first' | 'start-first'): { minimumHealthCapacity: number; maximumOverCapacity: number } {
  return order === 'stop-first'
    ? { minimumHealthCapacity: (instances - parallelism) / instances, maximumOverCapacity: 0 }
    : { minimumHealthCapacity: 1, maximumOverCapacity: parallelism / instances };
}

const p50 = (values: number[]): number | undefined => {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length / 2) - 1];
};
const maxOf = (values: Array<number | undefined>): number | undefined => {
  const defined = values.filter((v): v is number => v !== undefined);
  return defined.length ? Math.max(...defined) : undefined;
};

/**
 * From the engine's events: when the last new container was created and started, and per container
 * created → started and started → healthy (p50); in an update, each old container's end paired in
 * order with the next new container's start (stop-first: a replacement starts once an old one ended;
 * Swarm creates the replacement's container before the old one has stopped, Gantry after).
 */
function containerBreakdown(all: ContainerTimes[], t0: number, isNew: (c: ContainerTimes) => boolean = () => true): Breakdown {
  const fresh = all.filter((c) => c.created !== undefined && c.created >= t0 && isNew(c));
  const oldDied = all.filter((c) => c.created !== undefined && c.created < t0 && c.died !== undefined && c.died >= t0).map((c) => c.died!).sort((a, b) => a - b);
  const started = fresh.filter((c) => c.started !== undefined).map((c) => c.started!).sort((a, b) => a - b);
  const pairs = Math.min(oldDied.length, started.length);
  return {
    lastCreated: maxOf(fresh.map((c) => c.created! - t0)),
    lastStarted: maxOf(fresh.map((c) => (c.started !== undefined ? c.started - t0 : undefined))),
    createdToStartedP50: p50(fresh.filter((c) => c.started !== undefined).map((c) => c.started! - c.created!)),
    startToHealthyP50: p50(fresh.filter((c) => c.started !== undefined && c.healthy !== undefined).map((c) => c.healthy! - c.started!)),
    ...(pairs > 0 ? { oldEndToNewStartedP50: p50(Array.from({ length: pairs }, (_, i) => started[i]! - oldDied[i]!)) } : {}),
  };
}

// ---- Swarm ----------------------------------------------------------------------------------------

export async function runSwarm(s: WebSettings): Promise<ContenderResult> {
  const peer = new SwarmPeer({
    image: s.image,
    instances: s.instances,
    parallelism: s.parallelism,
    order: s.order,
    healthIntervalS: s.healthIntervalS,
    healthTimeoutS: HEALTH.timeoutSeconds,
    healthRetries: HEALTH.maxConsecutiveFailures,
    healthStartPeriodS: HEALTH.gracePeriodSeconds,
    stopGraceS: STOP_GRACE_S,
    containerPort: CONTAINER_PORT,
    page: PAGE,
    timeoutMs: s.timeoutMs,
  });
  const notes: string[] = [];
  try {
    let meter = new CpuMeter(null);
    const t0 = Date.now();
    const deployed = await peer.deploy();
    const deployCpu = meter.used();
    const deployBreakdown = { ...containerBreakdown(deployed.containers, t0), lastHealthy: deployed.ms };
    const afterDeploy = await peer.tasks('1');
    notes.push(`after the deploy, Swarm's tasks: ${JSON.stringify(afterDeploy.states)}`);
    meter = new CpuMeter(null);
    const t1 = Date.now();
    const updated = await peer.update();
    const updateCpu = meter.used();
    const updateBreakdown = { ...containerBreakdown(updated.containers, t1), lastHealthy: updated.ms };
    // Swarm marks a task running once its container is healthy: by now (or a moment later) all N run v2.
    await pollUntil(async () => (await peer.tasks('2')).ofVersion >= s.instances, { timeoutMs: 60_000, everyMs: 500, what: 'Swarm to list the updated tasks running' }).catch((err: Error) => notes.push(err.message));
    const afterUpdate = await peer.tasks('2');
    notes.push(`after the update, ${afterUpdate.ofVersion} tasks run BENCH_VERSION=2 (${JSON.stringify(afterUpdate.states)})`);
    return { deploy: { ms: deployed.ms, breakdown: deployBreakdown, cpu: deployCpu }, update: { ms: updated.ms, breakdown: updateBreakdown, cpu: updateCpu }, notes };
  } finally {
    await peer.remove();
  }
}

// ---- Gantry ---------------------------------------------------------------------------------------

export async function runGantry(s: WebSettings): Promise<ContenderResult> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-apps-web-'));
  const notes: string[] = [];
  let server: GantryServer | undefined;
  let events: EventFollower | undefined;
  let containers: ContainerEvents | undefined;
  // Room for N instances plus P over capacity, and a port range of 1,000.
  const room = s.instances + s.parallelism;
  const resources = `cpus:${Math.max(2, Math.ceil(room * 0.01 * 2))};mem:${Math.max(4096, room * 16 * 2)};disk:10240;ports:[21000-21999]`;
  try {
    server = await startServer({ dataDir, agentResources: resources, logLevel: s.logLevel });
    const url = server.url;
    events = await EventFollower.start(url);
    containers = await ContainerEvents.start('gantry.sandbox', (labels) => (labels['gantry.sandbox'] ?? '').startsWith(dataDir + path.sep));
    const definition = dockerWebApp(APP_ID, {
      image: s.image,
      instances: s.instances,
      containerPort: CONTAINER_PORT,
      page: PAGE,
      env: { BENCH_VERSION: '1' },
      health: { ...HEALTH, intervalSeconds: s.healthIntervalS },
      upgradeStrategy: upgradeStrategyFor(s.instances, s.parallelism, s.order),
      killGraceSeconds: STOP_GRACE_S,
    });

    // Deploy.
    let meter = new CpuMeter(server.pid);
    let t0 = Date.now();
    const deployT0 = t0;
    const created = expectStatus('POST /v2/apps', await call<{ version: string }>(url, 'POST', '/v2/apps', definition), 201);
    let last: MarathonTask[] = [];
    const v1 = created.body.version;
    await pollUntil(
      async () => {
        failedDeployment(events!);
        last = await appTasks(url, APP_ID);
        return last.filter(isHealthy).length >= s.instances;
      },
      { timeoutMs: s.timeoutMs, everyMs: 100, what: `${s.instances} Gantry instances healthy`, state: () => describe(last, server!) },
    );
    const deployMs = Date.now() - t0;
    const deployCpu = meter.used();
    const deployBreakdown = gantryBreakdown(last, v1, events.events, [...containers.containers.values()], t0, deployMs);

    // Rolling update: the environment changes, a new version; every instance is replaced.
    meter = new CpuMeter(server.pid);
    t0 = Date.now();
    const changed = expectStatus(`PUT /v2/apps${APP_ID}`, await call<{ version: string }>(url, 'PUT', `/v2/apps${APP_ID}`, { ...definition, env: { BENCH_VERSION: '2' } }), 200);
    const v2 = changed.body.version;
    await pollUntil(
      async () => {
        failedDeployment(events!);
        last = await appTasks(url, APP_ID);
        return last.filter((t) => t.version === v2 && isHealthy(t)).length >= s.instances;
      },
      { timeoutMs: s.timeoutMs, everyMs: 100, what: `${s.instances} updated Gantry instances healthy`, state: () => describe(last, server!, v2) },
    );
    const updateMs = Date.now() - t0;
    const updateCpu = meter.used();
    const updateBreakdown = gantryBreakdown(last.filter((t) => t.version === v2), v2, events.events, [...containers.containers.values()], t0, updateMs);
    const old = last.filter((t) => t.version !== v2).length;
    if (old > 0) notes.push(`when the last new instance was healthy, ${old} old instances were still listed (being killed)`);
    const deploymentEvents = events.events.filter((e) => e.type === 'deployment_success' || e.type === 'deployment_failed');
    notes.push(`deployments ended: ${deploymentEvents.map((e) => `${e.type} at +${((e.at - deployT0) / 1000).toFixed(2)} s after the POST`).join(', ') || 'none'} (the PUT came at +${((t0 - deployT0) / 1000).toFixed(2)} s)`);
    const rss = memoryOf(server.pid);

    // Removal: the app deleted, its instances killed.
    const removeStarted = Date.now();
    expectStatus(`DELETE /v2/apps${APP_ID}`, await call(url, 'DELETE', `/v2/apps${APP_ID}`), 200);
    await pollUntil(async () => (await activeTasks(url, 'app:/bench/')) === 0, { timeoutMs: 120_000, everyMs: 250, what: 'the instances to end after DELETE' }).catch((err: Error) => notes.push(err.message));
    notes.push(`DELETE → all ${s.instances} instances ended: ${((Date.now() - removeStarted) / 1000).toFixed(2)} s`);
    return {
      deploy: { ms: deployMs, breakdown: deployBreakdown, cpu: deployCpu },
      update: { ms: updateMs, breakdown: updateBreakdown, cpu: updateCpu },
      notes,
      logLines: serverProblems(server.output()),
      ...(rss ? { rssMiB: rss } : {}),
    };
  } catch (err) {
    throw withServerLog(err, server);
  } finally {
    containers?.stop();
    await events?.stop();
    await server?.stop();
    await discardDataDir(dataDir);
  }
}

/** Throws when Gantry reported a deployment failed (it rolls back): no point waiting out the timeout. */
export function failedDeployment(events: EventFollower): void {
  const failed = events.events.find((e) => e.type === 'deployment_failed');
  if (failed) throw new Error(`Gantry's deployment failed: ${failed.data?.reason ?? JSON.stringify(failed.data)}`);
}

function describe(tasks: MarathonTask[], server: GantryServer, version?: string): string {
  const of = version ? tasks.filter((t) => t.version === version) : tasks;
  const states: Record<string, number> = {};
  for (const t of of) states[t.state] = (states[t.state] ?? 0) + 1;
  return `${of.length} tasks ${JSON.stringify(states)}, ${of.filter(isHealthy).length} healthy; last server lines:\n${server.output().split('\n').slice(-15).join('\n')}`;
}

/** Instances of the app that are queued, staging or running (the pool's task list). */
export async function activeTasks(url: string, ownerPrefix: string): Promise<number> {
  const answer = expectStatus('GET /api/v1/tasks', await call<{ tasks: unknown[] }>(url, 'GET', `/api/v1/tasks?ownerPrefix=${encodeURIComponent(ownerPrefix)}&state=queued,staging,running&limit=10000`), 200);
  return answer.body.tasks.length;
}

function gantryBreakdown(tasks: MarathonTask[], version: string, events: ReceivedEvent[], containers: ContainerTimes[], t0: number, totalMs: number): Breakdown {
  const ids = new Set(tasks.map((t) => t.id));
  const healthyAt = new Map<string, number>();
  for (const e of events) {
    if (e.type === 'health_status_changed_event' && e.data?.alive === true && e.data?.version === version && ids.has(e.data.taskId) && !healthyAt.has(e.data.taskId)) healthyAt.set(e.data.taskId, Date.parse(e.data.timestamp));
  }
  const byTask = new Map(containers.map((c) => [c.labels['gantry.task'], c]));
  const startToHealthy = tasks
    .map((t) => ({ started: byTask.get(t.id)?.started, healthy: healthyAt.get(t.id) }))
    .filter((x) => x.started !== undefined && x.healthy !== undefined)
    .map((x) => x.healthy! - x.started!);
  return {
    ...containerBreakdown(containers, t0, (c) => ids.has(c.labels['gantry.task'] ?? '')),
    lastRunning: maxOf(tasks.map((t) => (t.startedAt ? Date.parse(t.startedAt) - t0 : undefined))),
    lastHealthy: totalMs,
    startToHealthyP50: p50(startToHealthy),
  };
}

/** The server's warnings and errors (pino JSON lines at level ≥ 40, or any line that is not JSON). */
/** The error of a part that failed, with the server's last warnings and errors appended. */
export function withServerLog(err: unknown, server: GantryServer | undefined): unknown {
  if (server) (err as Error).message += `\n--- server log (warnings and errors) ---\n${serverProblems(server.output()).slice(-40).join('\n')}`;
  return err;
}

export function serverProblems(output: string): string[] {
  return output.split('\n').filter((line) => {
    if (!line.trim()) return false;
    try {
      return (JSON.parse(line) as { level?: number }).level! >= 40;
    } catch {
      return !/listening on|registered/.test(line);
    }
  });
}

function memoryOf(pid: number): { rss: number; hwm: number } | undefined {
  const m = memoryKiB(pid);
  return m ? { rss: m.rss / 1024, hwm: m.hwm / 1024 } : undefined;
}
