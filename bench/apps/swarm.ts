// The peer: a Docker Swarm service on the same engine. The engine is made a swarm manager only when it
// is not one already (`docker swarm init --advertise-addr 127.0.0.1`), and left as it was found: a
// swarm this bench initialised is left (`docker swarm leave --force`) and the docker_gwbridge network
// it created removed; a swarm that was there is kept, only our service removed.
//
// The service as Gantry's app: same image, same resources reserved (0.01 CPU, 16 MiB) and the same
// memory limit, but no CPU limit where Gantry's driver sets a quota of 0.01 CPU: Docker runs a health
// check inside the container's cgroup, and under that quota `runc exec` + wget never finish within the
// timeout (every container turns unhealthy and Swarm replaces it, over and over). The engine's init as
// PID 1 (Gantry's driver runs it too), the
// port published on a host port the engine picks (mode=host, as Gantry maps hostPort 0), the same stop
// grace period, and a health check with the same interval, timeout and retries, its start period
// Marathon's grace period (failures before the first pass do not count, on both sides). Docker runs a health
// check inside the container (`wget` of the page, busybox's); Gantry's agent fetches the page over the
// mapped port: each system's own way.
//
// Measured from the engine's events (container create, start, health_status: healthy), which Swarm's
// executor also waits for before it reports a task running: deploy = `docker service create` → N
// containers healthy; update = `docker service update --env-add` → N containers created since then
// healthy (the replaced ones stopped by then with stop-first).
import Docker from 'dockerode';
import { ContainerEvents, type ContainerTimes } from './container-events.ts';
import { docker } from './image.ts';

export const SERVICE = 'gantry-bench-apps-web';
const SERVICE_LABEL = `com.docker.swarm.service.name=${SERVICE}`;

export interface SwarmState {
  /** What `docker info` said before the bench: inactive, active, pending, error, locked. */
  before: string;
  initialised: boolean;
  gwbridgeBefore: boolean;
}

export async function swarmNodeState(): Promise<{ state: string; manager: boolean }> {
  const out = (await docker(['info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}'])).trim().split(' ');
  return { state: out[0] ?? 'unknown', manager: out[1] === 'true' };
}

async function networkExists(name: string): Promise<boolean> {
  return (await docker(['network', 'ls', '--format', '{{.Name}}'])).split('\n').includes(name);
}

/** Makes the engine a swarm manager if it is not; says what it found. */
export async function joinSwarm(): Promise<SwarmState> {
  const { state, manager } = await swarmNodeState();
  const gwbridgeBefore = await networkExists('docker_gwbridge');
  if (state === 'active') {
    if (!manager) throw new Error('this engine is a swarm worker: services can only be created on a manager');
    return { before: state, initialised: false, gwbridgeBefore };
  }
  if (state !== 'inactive') throw new Error(`the engine's swarm state is "${state}": not touching it`);
  await docker(['swarm', 'init', '--advertise-addr', '127.0.0.1', '--listen-addr', '127.0.0.1:2377']);
  return { before: state, initialised: true, gwbridgeBefore };
}

/** Leaves the swarm if the bench initialised it, and removes the bridge network that made. */
export async function restoreSwarm(s: SwarmState): Promise<string> {
  if (!s.initialised) return `the engine's swarm was ${s.before}: kept`;
  await docker(['swarm', 'leave', '--force']);
  if (!s.gwbridgeBefore && (await networkExists('docker_gwbridge'))) await docker(['network', 'rm', 'docker_gwbridge']).catch(() => undefined);
  return 'swarm left (the bench had initialised it)';
}

export interface SwarmSettings {
  image: string;
  instances: number;
  parallelism: number;
  order: 'stop-first' | 'start-first';
  healthIntervalS: number;
  healthTimeoutS: number;
  healthRetries: number;
  /** Docker's start period: failures before the first pass do not count (Marathon's gracePeriodSeconds). */
  healthStartPeriodS: number;
  stopGraceS: number;
  containerPort: number;
  page: string;
  timeoutMs: number;
}

export interface PhaseResult {
  ms: number;
  containers: ContainerTimes[];
}

export class SwarmPeer {
  private events: ContainerEvents | undefined;

  constructor(private readonly s: SwarmSettings) {}

  private async follow(): Promise<ContainerEvents> {
    this.events ??= await ContainerEvents.start(SERVICE_LABEL);
    return this.events;
  }

  /** `docker service create` → every instance healthy. */
  async deploy(): Promise<PhaseResult> {
    const s = this.s;
    const events = await this.follow();
    const t0 = Date.now();
    await docker([
      'service', 'create', '--detach', '--name', SERVICE, '--replicas', String(s.instances), '--no-resolve-image', '--init',
      // No CPU limit (Gantry's driver sets one: 0.01): Docker runs the health check inside the container's
      // cgroup, and under a 0.01 CPU quota `runc exec` + wget never finish within the timeout.
      '--reserve-cpu', '0.01', '--reserve-memory', '16M', '--limit-memory', '16M',
      '--health-cmd', `wget -q -O /dev/null http://127.0.0.1:${s.containerPort}${s.page}`,
      '--health-interval', `${s.healthIntervalS}s`, '--health-timeout', `${s.healthTimeoutS}s`, '--health-retries', String(s.healthRetries), '--health-start-period', `${s.healthStartPeriodS}s`,
      '--update-parallelism', String(s.parallelism), '--update-delay', '0s', '--update-order', s.order, '--update-failure-action', 'pause',
      '--stop-grace-period', `${s.stopGraceS}s`,
      '--publish', `mode=host,target=${s.containerPort}`,
      '--env', 'BENCH_VERSION=1',
      s.image,
    ]);
    await events.until(() => events.healthySince(t0).length >= s.instances, s.timeoutMs, `${s.instances} Swarm containers healthy`, () => this.describe(t0), () => this.crashLooping(t0));
    const ms = Date.now() - t0;
    return { ms, containers: [...events.containers.values()] };
  }

  /** `docker service update --env-add` → as many new containers healthy as instances. */
  async update(): Promise<PhaseResult> {
    const s = this.s;
    const events = await this.follow();
    const t0 = Date.now();
    await docker(['service', 'update', '--detach', '--env-add', 'BENCH_VERSION=2', SERVICE]);
    await events.until(() => events.healthySince(t0).length >= s.instances, s.timeoutMs, `${s.instances} updated Swarm containers healthy`, () => this.describe(t0), () => this.crashLooping(t0));
    const ms = Date.now() - t0;
    return { ms, containers: [...events.containers.values()] };
  }

  /** The service's tasks that should run, and how many run the given BENCH_VERSION (a check after the fact). */
  async tasks(version: string): Promise<{ running: number; ofVersion: number; states: Record<string, number> }> {
    const tasks = (await new Docker().listTasks({ filters: JSON.stringify({ service: [SERVICE], 'desired-state': ['running'] }) })) as Array<{ Status?: { State?: string }; Spec?: { ContainerSpec?: { Env?: string[] } } }>;
    const states: Record<string, number> = {};
    for (const t of tasks) states[t.Status?.State ?? '?'] = (states[t.Status?.State ?? '?'] ?? 0) + 1;
    const ofVersion = tasks.filter((t) => t.Status?.State === 'running' && (t.Spec?.ContainerSpec?.Env ?? []).includes(`BENCH_VERSION=${version}`)).length;
    return { running: states.running ?? 0, ofVersion, states };
  }

  private describe(since: number): string {
    const events = this.events!;
    return `${events.createdSince(since).length} created, ${events.healthySince(since).length} healthy, ${events.diedSince(since).length} died`;
  }

  /** New containers dying (unhealthy ones are killed and replaced): more than a quarter of N is not a run to time. */
  private crashLooping(since: number): string | null {
    const died = this.events!.diedSince(since).length;
    return died > Math.max(2, this.s.instances / 4) ? `${died} of the new containers died (failed health checks are killed and replaced)` : null;
  }

  /** Removes the service and waits for its containers to be gone. */
  async remove(): Promise<void> {
    this.events?.stop();
    await removeService();
  }
}

/**
 * Removes the service (if there) and waits up to 2 minutes for its containers to be gone (the engine
 * removes them after the service, asynchronously), then removes any left by force.
 */
export async function removeService(): Promise<void> {
  await docker(['service', 'rm', SERVICE]).catch((err: Error) => {
    if (!/not found|not a swarm manager/i.test(err.message)) throw err;
  });
  const deadline = Date.now() + 120_000;
  for (;;) {
    const left = (await docker(['ps', '-aq', '--filter', `label=${SERVICE_LABEL}`])).split('\n').filter(Boolean);
    if (left.length === 0) return;
    if (Date.now() > deadline) {
      for (let i = 0; i < left.length; i += 50) await docker(['rm', '-f', ...left.slice(i, i + 50)]).catch(() => undefined);
      return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
