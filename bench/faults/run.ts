// Faults benchmark (issue 6): real `gantry server` and `gantry agent` processes, killed with SIGKILL.
//
// 1. Agent loss: N batch jobs run one long task each on agent alpha; a second agent (beta) joins; alpha
//    is killed. Measured per task: kill → task `lost` (detection) and kill → its replacement running on
//    beta, against the goal heartbeat timeout + 1 s. Then alpha is restarted on its data directory: the
//    lost copies it still runs must be killed (time until the last is gone).
// 2. Master restart: M tasks (`sleep`) running on 10 agents; the master is killed, stays down a few
//    seconds, and is restarted on the same data directory and port. Measured: time to "listening", and
//    time until every agent has polled it again (each poll reconciles that agent's tasks: the master's
//    running tasks the agent no longer lists become lost); checked: all M still running, none lost,
//    none launched twice.
// 3. Crash loop: tasks failing instantly (`exit 1`) with restart policies side by side on one agent for
//    --crash-seconds: Gantry's defaults (1 s × 2, cap 5 min), Marathon's backoff factor (1 s × 1.15,
//    cap 5 min), Kubernetes' CrashLoopBackOff (10 s × 2, cap 5 min) and the tightest policy accepted
//    (100 ms × 1). Measured per task and minute: store writes (the task row's version counts every
//    write), runs, and bytes of stored output.
//
// No peer runs here (Mesos, Nomad and Marathon need downloads); the known defaults of theirs are
// printed beside the goals.
//
// Usage: npm run bench:faults [-- --jobs 20 --heartbeat 3 --tasks 1000 --agents 10 --down 3 --crash-seconds 120 --only loss,restart,crashloop --keep]
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { spawnGantryAgent, spawnGantryServer, waitFor, type GantryAgent, type GantryServer } from '../shared/gantry-process.ts';
import { summarize } from '../shared/stats.ts';
import { freePort } from '../shared/ports.ts';
import { pool } from '../shared/pool.ts';

const ADMIN_TOKEN = 'gat_bench-faults-admin-token-0123456789abcdef';
const JOIN_TOKEN = 'gjt_bench-faults-join-token-0123456789abcdef';
const AGENT_RESOURCES = 'cpus:64;mem:65536;disk:1048576';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '20' },
    heartbeat: { type: 'string', default: '3' },
    tasks: { type: 'string', default: '1000' },
    agents: { type: 'string', default: '10' },
    down: { type: 'string', default: '3' },
    'crash-seconds': { type: 'string', default: '120' },
    only: { type: 'string', default: 'loss,restart,crashloop' },
    keep: { type: 'boolean', default: false },
  },
});
const positive = (name: string, text: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer (got "${text}")`);
  return n;
};
const jobCount = positive('jobs', values.jobs);
const heartbeatS = positive('heartbeat', values.heartbeat);
const taskCount = positive('tasks', values.tasks);
const agentCount = positive('agents', values.agents);
const downS = positive('down', values.down);
const crashS = positive('crash-seconds', values['crash-seconds']);
const parts = new Set(values.only.split(','));

const ms = (v: number): string => (Number.isFinite(v) ? (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`) : '-');
const sleep = (t: number): Promise<void> => new Promise((r) => setTimeout(r, t));

async function call<T>(url: string, method: string, route: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(url + route, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function recordedPid(agentDir: string, taskId: string): number {
  return (JSON.parse(readFileSync(path.join(agentDir, 'sandboxes', taskId, 'task.json'), 'utf8')) as { pid: number }).pid;
}

interface Task {
  id: string;
  state: string;
  agentId: string | null;
}
interface Run {
  state: string;
  taskId: string | null;
}

const server = (dataDir: string, listen: string, heartbeat: string): Promise<GantryServer> =>
  spawnGantryServer({
    serverArgs: ['--data-dir', dataDir, '--listen', listen, '--registry-listen', '127.0.0.1:0', '--no-local-agent', '--heartbeat-timeout', heartbeat, '--log-level', 'warn'],
    env: { ...process.env, GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
    localAgent: false,
  });
const agent = (url: string, dataDir: string, hostname: string): Promise<GantryAgent> =>
  spawnGantryAgent({ url, joinToken: JOIN_TOKEN, dataDir, hostname, resources: AGENT_RESOURCES });

const workDir = await mkdtemp(path.join(os.tmpdir(), 'bench-faults-'));
const cleanups: Array<() => Promise<void>> = [];
console.log(`faults benchmark: machine ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);

try {
  if (parts.has('loss')) await agentLoss();
  if (parts.has('restart')) await masterRestart();
  if (parts.has('crashloop')) await crashLoop();
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((err: Error) => console.error(`cleanup: ${err.message}`));
  if (!values.keep) await rm(workDir, { recursive: true, force: true });
  else console.log(`kept: ${workDir}`);
}

async function agentLoss(): Promise<void> {
  console.log(`1. Agent loss: ${jobCount} batch jobs with one long task each on agent alpha, heartbeat timeout ${heartbeatS} s; alpha killed with SIGKILL`);
  const s = await server(path.join(workDir, 'loss-server'), '127.0.0.1:0', `${heartbeatS}s`);
  cleanups.push(() => s.stop());
  const alphaDir = path.join(workDir, 'alpha');
  let alpha = await agent(s.url, alphaDir, 'alpha');
  cleanups.push(() => alpha.stop());
  const names = Array.from({ length: jobCount }, (_, i) => `loss-${i}`);
  await pool(names, 4, async (name) => {
    const created = await call(s.url, 'POST', '/api/v1/jobs', { name, command: 'exec sleep 600', schedule: 'R/2030-01-01T00:00:00Z/P1D', retries: 0, cpus: 0.1, mem: 32 });
    if (created.status !== 201) throw new Error(`POST /api/v1/jobs: ${created.status} ${JSON.stringify(created.body)}`);
    await call(s.url, 'POST', `/api/v1/jobs/${name}/run`);
  });
  const firstTasks = new Map<string, string>();
  await waitFor(async () => {
    for (const name of names) {
      if (firstTasks.has(name)) continue;
      const [run] = (await call<{ runs: Run[] }>(s.url, 'GET', `/api/v1/jobs/${name}/runs`)).body.runs;
      if (run?.state !== 'running' || !run.taskId) continue;
      if ((await call<Task>(s.url, 'GET', `/api/v1/tasks/${run.taskId}`)).body.state === 'running') firstTasks.set(name, run.taskId);
    }
    return firstTasks.size === names.length;
  }, 60_000, 'every job running on alpha');
  const oldPids = [...firstTasks.values()].map((id) => recordedPid(alphaDir, id));
  const beta = await agent(s.url, path.join(workDir, 'beta'), 'beta');
  cleanups.push(() => beta.stop());
  cleanups.push(async () => {
    for (const name of names) await call(s.url, 'POST', `/api/v1/jobs/${name}/kill`).catch(() => undefined);
  });

  const killedAt = Date.now();
  alpha.child.kill('SIGKILL');
  const detected = new Map<string, number>();
  const replaced = new Map<string, number>();
  await waitFor(async () => {
    for (const [name, taskId] of firstTasks) {
      if (!detected.has(name) && (await call<Task>(s.url, 'GET', `/api/v1/tasks/${taskId}`)).body.state === 'lost') detected.set(name, Date.now() - killedAt);
      if (replaced.has(name)) continue;
      const [run] = (await call<{ runs: Run[] }>(s.url, 'GET', `/api/v1/jobs/${name}/runs`)).body.runs;
      if (!run?.taskId || run.taskId === taskId) continue;
      if ((await call<Task>(s.url, 'GET', `/api/v1/tasks/${run.taskId}`)).body.state === 'running') replaced.set(name, Date.now() - killedAt);
    }
    return replaced.size === names.length;
  }, 60_000, 'every task replaced', 20);
  const detect = summarize([...detected.values()]);
  const replace = summarize([...replaced.values()]);
  const goalMs = heartbeatS * 1000 + 1000;

  const restartedAt = Date.now();
  alpha = await agent(s.url, alphaDir, 'alpha');
  await waitFor(() => oldPids.every((pid) => !alive(pid)), 30_000, 'the lost copies killed');
  const copiesGoneMs = Date.now() - restartedAt;

  console.log(`   kill → task lost (detection)          p50 ${ms(detect.p50)}, max ${ms(detect.max)} (${detect.count} tasks)`);
  console.log(`   kill → replacement running on beta    p50 ${ms(replace.p50)}, max ${ms(replace.max)}`);
  console.log(`   alpha restarted → its ${oldPids.length} lost copies killed  ${ms(copiesGoneMs)}`);
  console.log(`   goal: replaced within heartbeat timeout + 1 s = ${ms(goalMs)}: max ${ms(replace.max)} ${replace.max <= goalMs ? 'met' : 'NOT met'}`);
  console.log('   known of others (defaults): Mesos declares an agent lost after agent_ping_timeout 15 s × max_agent_ping_timeouts 5 = 75 s, then Marathon replaces; Nomad after the heartbeat TTL plus heartbeat_grace 10 s\n');
}

async function masterRestart(): Promise<void> {
  console.log(`2. Master restart: ${taskCount} tasks on ${agentCount} agents; the master killed with SIGKILL, down ${downS} s, restarted`);
  const port = await freePort();
  const dataDir = path.join(workDir, 'restart-server');
  let s = await server(dataDir, `127.0.0.1:${port}`, '30s');
  cleanups.push(() => s.stop());
  const agents: GantryAgent[] = [];
  for (let i = 0; i < agentCount; i++) agents.push(await agent(s.url, path.join(workDir, `agent-${i}`), `agent-${i}`));
  cleanups.push(async () => {
    await Promise.all(agents.map((a) => a.stop())); // each kills its tasks (grace 1 s)
  });
  const submitStarted = Date.now();
  const ids: string[] = [];
  await pool(Array.from({ length: taskCount }, (_, i) => i), 8, async () => {
    const answer = await call<Task>(s.url, 'POST', '/api/v1/tasks', { args: ['sleep', '3600'], cpus: 0.01, mem: 16, killGraceMs: 1000 });
    if (answer.status !== 201) throw new Error(`POST /api/v1/tasks: ${answer.status} ${JSON.stringify(answer.body)}`);
    ids.push(answer.body.id);
  });
  const runningCount = async (url: string): Promise<number> => (await call<{ tasks: Task[] }>(url, 'GET', `/api/v1/tasks?state=running&limit=${taskCount + 100}`)).body.tasks.length;
  await waitFor(async () => (await runningCount(s.url)) === taskCount, 300_000, `${taskCount} tasks running`, 500);
  console.log(`   ${taskCount} tasks submitted and running in ${ms(Date.now() - submitStarted)}`);

  s.child.kill('SIGKILL');
  await sleep(downS * 1000);
  const spawnAt = Date.now();
  s = await server(dataDir, `127.0.0.1:${port}`, '30s');
  const readyAt = Date.now();
  const readyIso = new Date(readyAt - 1000).toISOString(); // the store keeps heartbeats to the second
  await waitFor(async () => {
    const listed = (await call<{ agents: Array<{ state: string; lastHeartbeatAt: string }> }>(s.url, 'GET', '/api/v1/agents')).body.agents;
    return listed.filter((a) => a.state === 'ready' && a.lastHeartbeatAt >= readyIso).length === agentCount;
  }, 60_000, 'every agent polling again', 20);
  const reconciledAt = Date.now();
  const all = (await call<{ tasks: Task[] }>(s.url, 'GET', `/api/v1/tasks?limit=${taskCount + 100}`)).body.tasks;
  const states = new Map<string, number>();
  for (const task of all) states.set(task.state, (states.get(task.state) ?? 0) + 1);

  console.log(`   restart → listening                   ${ms(readyAt - spawnAt)}`);
  console.log(`   listening → every agent reconciled    ${ms(reconciledAt - readyAt)} (restart → reconciled ${ms(reconciledAt - spawnAt)})`);
  console.log(`   tasks after the restart: ${[...states].map(([state, n]) => `${n} ${state}`).join(', ')} (of ${taskCount} submitted; ${all.length === taskCount ? 'none launched twice' : `${all.length} tasks: some launched twice`})`);
  const reconcileMs = reconciledAt - readyAt;
  console.log(`   goal: reconcile ${taskCount} running tasks on ${agentCount} agents < 2 s: ${ms(reconcileMs)} ${reconcileMs < 2000 && states.get('running') === taskCount ? 'met' : 'NOT met'}`);
  console.log('   known of others (defaults): a Mesos master fails over and waits up to agent_reregister_timeout (10 min) for agents to re-register\n');
}

async function crashLoop(): Promise<void> {
  const policies: Array<[string, Record<string, unknown>]> = [
    ['gantry default (1 s × 2, cap 5 min)', { policy: 'on-failure' }],
    ['Marathon factor (1 s × 1.15, cap 5 min)', { policy: 'on-failure', backoffMs: 1000, factor: 1.15, maxBackoffMs: 300_000 }],
    ['Kubernetes CrashLoopBackOff (10 s × 2, cap 5 min)', { policy: 'on-failure', backoffMs: 10_000, factor: 2, maxBackoffMs: 300_000 }],
    ['tightest accepted (100 ms × 1)', { policy: 'on-failure', backoffMs: 100, factor: 1, maxBackoffMs: 100 }],
  ];
  console.log(`3. Crash loop: ${policies.length} tasks failing at once (\`echo failing; exit 1\`), one per restart policy, side by side for ${crashS} s`);
  const s = await server(path.join(workDir, 'crash-server'), '127.0.0.1:0', '30s');
  cleanups.push(() => s.stop());
  const a = await agent(s.url, path.join(workDir, 'crash-agent'), 'crash-agent');
  cleanups.push(() => a.stop());
  const ids: string[] = [];
  for (const [, restart] of policies) {
    const answer = await call<Task>(s.url, 'POST', '/api/v1/tasks', { cmd: 'echo failing; exit 1', cpus: 0.01, mem: 16, restart });
    if (answer.status !== 201) throw new Error(`POST /api/v1/tasks: ${answer.status} ${JSON.stringify(answer.body)}`);
    ids.push(answer.body.id);
  }
  interface Sample { version: number; restarts: number; logBytes: number }
  const sample = async (id: string): Promise<Sample> => {
    const task = (await call<Task & { version: number; restarts: number }>(s.url, 'GET', `/api/v1/tasks/${id}`)).body;
    const log = await fetch(`${s.url}/api/v1/tasks/${id}/logs`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).then((r) => r.arrayBuffer());
    return { version: task.version, restarts: task.restarts, logBytes: log.byteLength };
  };
  const samples: Sample[][] = [await Promise.all(ids.map(sample))];
  const minutes = Math.max(1, Math.round(crashS / 60));
  for (let m = 1; m <= minutes; m++) {
    await sleep((crashS / minutes) * 1000);
    samples.push(await Promise.all(ids.map(sample)));
  }
  const label = (m: number): string => `minute ${m}`;
  console.log(`   ${'policy'.padEnd(52)} ${Array.from({ length: minutes }, (_, m) => `${label(m + 1)}: writes / runs / log bytes`.padEnd(36)).join(' ')}`);
  policies.forEach(([name], i) => {
    const cells = Array.from({ length: minutes }, (_, m) => {
      const [from, to] = [samples[m]![i]!, samples[m + 1]![i]!];
      return `${to.version - from.version} / ${to.restarts - from.restarts} / ${to.logBytes - from.logBytes}`.padEnd(36);
    });
    console.log(`   ${name.padEnd(52)} ${cells.join(' ')}`);
  });
  console.log('   (writes: the task row only; the first minute includes its insert, staging and running. A run is a restart.)');
  console.log('   goal: a task failing instantly causes no more than a few store writes per backoff period: one per restart here\n');
}
