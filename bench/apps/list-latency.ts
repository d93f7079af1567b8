// Part 3: GET /v2/apps?embed=apps.tasks with A apps of K instances each (1,000 × 10 by default), p50
// and p99 over R sequential requests, the client reading the whole body (Marathon took 12 s with 1,000
// tasks: marathon issue #1274).
//
// How the 10,000 instances exist (--list-mode):
// - hollow (default): 10 hollow agents (hollow-agent.ts) register over HTTP as `gantry agent` does and
//   report every launch running and healthy, without a process. The server holds exactly what it
//   would with real instances (1,000 apps, 10,000 pool tasks in its store and memory, each with its
//   ports, its health verdict and its version), so the listing does the same work. Real processes are
//   not used at this size because of the machine: pid_max is 32,768 on this 2-core VM shared with other
//   sessions, and an exec instance costs its agent an output tail that reads its two files (every
//   400 ms while quiet: 10,000 instances, 50,000 reads a second on one embedded agent), which would
//   measure the agent, not the listing. Part 2 measures real instances.
// - real: the instances are real processes on the embedded agent (part 2's httpd with a TCP check),
//   for a smaller A × K.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { memoryKiB } from '../shared/proc.ts';
import { pool } from '../shared/pool.ts';
import { summarize, type Summary } from '../shared/stats.ts';
import { execApp } from './exec-scale.ts';
import { call, expectStatus, JOIN_TOKEN, pollUntil, discardDataDir, startServer, type GantryServer } from './gantry.ts';
import { HollowAgent } from './hollow-agent.ts';
import { cpuSeconds } from './machine.ts';
import { activeTasks, serverProblems, withServerLog } from './web-compare.ts';

export interface ListSettings {
  apps: number;
  perApp: number;
  requests: number;
  mode: 'hollow' | 'real';
  logLevel: string;
  timeoutMs: number;
}

export interface ListResult {
  apps: number;
  instances: number;
  mode: 'hollow' | 'real';
  agents: number;
  postMs: number;
  post: Summary;
  allHealthyMs: number;
  embed: Summary & { bytes: number; cpuMsPerRequest: number };
  plain: Summary & { bytes: number };
  rssMiB: number;
  hwmMiB: number;
  notes: string[];
  logLines: string[];
}

const appId = (i: number): string => `/bench/list/app-${String(i).padStart(4, '0')}`;
const PER_HOLLOW_AGENT = 1000;

export async function runListLatency(s: ListSettings): Promise<ListResult> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-apps-list-'));
  const total = s.apps * s.perApp;
  const notes: string[] = [];
  let server: GantryServer | undefined;
  const agents: HollowAgent[] = [];
  const agentCount = s.mode === 'hollow' ? Math.max(1, Math.ceil(total / PER_HOLLOW_AGENT)) : 1;
  const portsPerAgent = 2 * Math.ceil(total / agentCount) + 100;
  try {
    server = await startServer({
      dataDir,
      agentResources: s.mode === 'real' ? `cpus:${Math.max(2, Math.ceil(total * 0.01 * 2))};mem:${Math.max(4096, total * 16 * 2)};disk:10240;ports:[24000-${24000 + portsPerAgent - 1}]` : null,
      logLevel: s.logLevel,
    });
    const url = server.url;
    for (let i = 0; i < (s.mode === 'hollow' ? agentCount : 0); i++) {
      const agent = new HollowAgent({ url, joinToken: JOIN_TOKEN, hostname: `hollow-${i}`, cpus: 1000, memMiB: 1 << 20, ports: [10000, 10000 + portsPerAgent - 1] });
      await agent.start();
      agents.push(agent);
    }

    // The apps, 4 POSTs at a time.
    const postLatencies: number[] = [];
    const t0 = Date.now();
    await pool(
      Array.from({ length: s.apps }, (_, i) => i),
      4,
      async (i) => {
        const answer = expectStatus(`POST /v2/apps ${appId(i)}`, await call(url, 'POST', '/v2/apps', execApp(appId(i), s.perApp, 5, 0.001, 8)), 201);
        postLatencies.push(answer.ms);
      },
    );
    const postMs = Date.now() - t0;
    let healthy = 0;
    await pollUntil(
      async () => {
        const apps = expectStatus('GET /v2/apps', await call<{ apps: Array<{ tasksHealthy: number }> }>(url, 'GET', '/v2/apps'), 200).body.apps;
        healthy = apps.reduce((sum, a) => sum + a.tasksHealthy, 0);
        return healthy >= total;
      },
      { timeoutMs: s.timeoutMs, everyMs: 1000, what: `${total} instances healthy`, state: () => `${healthy} healthy; hollow agents: ${agents.map((a) => `${a.taskCount} tasks, ${a.errors} errors ${a.lastError}`).join('; ')}; last server lines:\n${server!.output().split('\n').slice(-10).join('\n')}` },
    );
    const allHealthyMs = Date.now() - t0;
    for (const a of agents) if (a.errors > 0) notes.push(`hollow agent: ${a.errors} failed calls (retried), last: ${a.lastError}`);
    await new Promise((r) => setTimeout(r, 3000)); // let the last reports settle

    // The listing, one request at a time.
    const embed: number[] = [];
    let embedBytes = 0;
    const cpuBefore = cpuSeconds(server.pid) ?? 0;
    for (let i = 0; i < s.requests; i++) {
      const answer = expectStatus('GET /v2/apps?embed=apps.tasks', await call<{ apps: Array<{ tasks: Array<{ healthCheckResults: Array<{ alive: boolean }> }> }> }>(url, 'GET', '/v2/apps?embed=apps.tasks'), 200);
      if (i === 0) {
        const tasks = answer.body.apps.flatMap((a) => a.tasks);
        const alive = tasks.filter((t) => t.healthCheckResults.some((r) => r.alive)).length;
        notes.push(`the listing holds ${answer.body.apps.length} apps, ${tasks.length} tasks (${alive} with a passing health check result), ${(answer.bytes / 2 ** 20).toFixed(1)} MiB of JSON`);
      }
      embed.push(answer.ms);
      embedBytes = answer.bytes;
    }
    const cpuMsPerRequest = (1000 * ((cpuSeconds(server.pid) ?? 0) - cpuBefore)) / s.requests;
    const plain: number[] = [];
    let plainBytes = 0;
    for (let i = 0; i < Math.min(50, s.requests); i++) {
      const answer = expectStatus('GET /v2/apps', await call(url, 'GET', '/v2/apps'), 200);
      plain.push(answer.ms);
      plainBytes = answer.bytes;
    }
    const memory = memoryKiB(server.pid);

    return {
      apps: s.apps,
      instances: total,
      mode: s.mode,
      agents: agentCount,
      postMs,
      post: summarize(postLatencies),
      allHealthyMs,
      embed: { ...summarize(embed), bytes: embedBytes, cpuMsPerRequest },
      plain: { ...summarize(plain), bytes: plainBytes },
      rssMiB: (memory?.rss ?? NaN) / 1024,
      hwmMiB: (memory?.hwm ?? NaN) / 1024,
      notes,
      logLines: serverProblems(server.output()),
    };
  } catch (err) {
    throw withServerLog(err, server);
  } finally {
    if (server && s.mode === 'real') {
      await pool(Array.from({ length: s.apps }, (_, i) => i), 4, async (i) => {
        await call(server!.url, 'DELETE', `/v2/apps${appId(i)}?force=true`).catch(() => undefined);
      });
      await pollUntil(async () => (await activeTasks(server!.url, 'app:/bench/')) === 0, { timeoutMs: 300_000, everyMs: 1000, what: 'cleanup' }).catch(() => undefined);
    }
    await Promise.all(agents.map((a) => a.stop()));
    await server?.stop();
    await discardDataDir(dataDir);
  }
}
