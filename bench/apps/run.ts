// Apps benchmark (issue 18): long-running apps on Gantry through its Marathon API, beside Docker Swarm
// services on the same Docker engine in the same run.
//
// 1. web: N instances (100) of a small HTTP server image (busybox httpd, imported from busybox-static:
//    no registry), health-checked over HTTP; deploy until all healthy, then a rolling update of all N
//    (a changed environment variable) at parallelism P (10), on Gantry (POST /v2/apps, PUT: Docker
//    driver, server as its own process) and on a Swarm service (docker service create / update), one
//    after the other. web-compare.ts says how P maps to Marathon's upgradeStrategy.
// 2. exec: one app of 1,000 instances on the exec driver (busybox httpd per instance, TCP health
//    check) until all healthy: time, the server's CPU seconds and memory (exec-scale.ts says why httpd).
// 3. list: GET /v2/apps?embed=apps.tasks with 1,000 apps × 10 instances, p50/p99 over 200 requests
//    (list-latency.ts says how the 10,000 instances exist: hollow agents by default).
//
// The engine's swarm state is left as found (swarm.ts). Every server, data directory, container and
// service the bench makes is removed at the end, also after a failure or Ctrl-C. Before each part it
// waits while the machine's 1-minute load is above --max-load (other sessions use this machine).
//
// Usage: node --import tsx bench/apps/run.ts [--quick] [--only web,exec,list]
//   [--instances 100 --parallelism 10 --order stop-first|start-first --health-interval 15 --first gantry|swarm]
//   --health-interval: 15 s by default: at 5 s Swarm cannot keep 100 instances on this 2-core machine (Docker runs
//   each check as an exec in the container: 20 a second; a quarter of them die failing checks, bench/README.md).
//   [--exec-instances 1000 --exec-interval 5 --idle 20 --exec-limit 600 --exec-passes shipped|off|off,shipped]
//   --exec-passes off: the server samples its tasks' usage every hour instead of every 10 s (a diagnostic). [--apps 1000 --per-app 10 --requests 200 --list-mode hollow|real]
//   [--log-level info] [--timeout 900] [--max-load 1.5 --max-wait 1800] [--keep-image] [--cpu-prof-dir DIR]
//   --cpu-prof-dir: each server writes its CPU profile there (node --cpu-prof) when it stops.
//   --quick: --instances 20 --parallelism 5 --exec-instances 100 --apps 100 --requests 50 (each can still be given).
import os from 'node:os';
import { parseArgs } from 'node:util';
import { runExecScale, type ExecResult } from './exec-scale.ts';
import { discardDataDir, live, runsCompiled, serverNodeArgs } from './gantry.ts';
import { docker, ensureHttpdImage } from './image.ts';
import { runListLatency, type ListResult } from './list-latency.ts';
import { waitForQuiet } from './machine.ts';
import { joinSwarm, removeService, restoreSwarm, swarmNodeState, type SwarmState } from './swarm.ts';
import { runGantry, runSwarm, upgradeStrategyFor, type Breakdown, type ContenderResult, type WebSettings } from './web-compare.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string', default: 'web,exec,list' },
    instances: { type: 'string' },
    parallelism: { type: 'string' },
    order: { type: 'string', default: 'stop-first' },
    'health-interval': { type: 'string', default: '15' },
    first: { type: 'string', default: 'gantry' },
    'exec-instances': { type: 'string' },
    'exec-interval': { type: 'string', default: '5' },
    'exec-passes': { type: 'string', default: 'shipped' },
    'exec-limit': { type: 'string', default: '600' },
    idle: { type: 'string', default: '20' },
    apps: { type: 'string' },
    'per-app': { type: 'string', default: '10' },
    requests: { type: 'string' },
    'list-mode': { type: 'string', default: 'hollow' },
    'log-level': { type: 'string', default: 'info' },
    timeout: { type: 'string', default: '900' },
    'max-load': { type: 'string', default: '1.5' },
    'max-wait': { type: 'string', default: '1800' },
    'keep-image': { type: 'boolean', default: false },
    'cpu-prof-dir': { type: 'string' },
  },
});
const quick = values.quick;
const int = (name: string, text: string | undefined, fallback: number): number => {
  const n = Number(text ?? fallback);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer (got "${text}")`);
  return n;
};
const parts = new Set(values.only.split(','));
for (const p of parts) if (!['web', 'exec', 'list'].includes(p)) throw new Error(`--only takes web, exec, list (got "${p}")`);
const instances = int('instances', values.instances, quick ? 20 : 100);
const parallelism = int('parallelism', values.parallelism, quick ? 5 : 10);
if (parallelism > instances) throw new Error('--parallelism cannot exceed --instances');
const order = values.order as 'stop-first' | 'start-first';
if (!['stop-first', 'start-first'].includes(order)) throw new Error('--order is stop-first or start-first');
const first = values.first;
if (!['gantry', 'swarm'].includes(first)) throw new Error('--first is gantry or swarm');
const listMode = values['list-mode'] as 'hollow' | 'real';
if (!['hollow', 'real'].includes(listMode)) throw new Error('--list-mode is hollow or real');
const timeoutMs = int('timeout', values.timeout, 900) * 1000;
const maxLoad = Number(values['max-load']);
const maxWait = int('max-wait', values['max-wait'], 1800);
const IMAGE = 'gantry-bench/apps-httpd:1';
if (values['cpu-prof-dir']) serverNodeArgs.push('--cpu-prof', '--cpu-prof-dir', values['cpu-prof-dir']);

const secs = (ms: number | undefined): string => (ms === undefined || !Number.isFinite(ms) ? '-' : `${(ms / 1000).toFixed(2)} s`);
const msText = (ms: number | undefined): string => (ms === undefined || !Number.isFinite(ms) ? '-' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const cpu = (s: number): string => `${s.toFixed(1)} s`;
const row = (cells: string[], widths: number[]): string => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [row(header, widths), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map((r) => row(r, widths))].join('\n');
}

let swarm: SwarmState | undefined;
let imageMade = false;
let stopping = false;

async function cleanupAll(): Promise<void> {
  for (const server of [...live.servers]) await server.stop().catch(() => undefined);
  for (const dir of [...live.dataDirs]) await discardDataDir(dir).catch((err: Error) => console.error(`cleanup ${dir}: ${err.message}`));
  if (swarm) {
    await removeService().catch((err: Error) => console.error(`removing the Swarm service: ${err.message}`));
    console.log(`   ${await restoreSwarm(swarm).catch((err: Error) => `could not restore the swarm state: ${err.message}`)}`);
    swarm = undefined;
  }
  if (imageMade && !values['keep-image']) {
    await docker(['rmi', IMAGE]).catch((err: Error) => console.error(`removing ${IMAGE}: ${err.message}`));
    imageMade = false;
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${signal}: removing the servers, data directories, service, swarm and image the bench made`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

const cpuModel = os.cpus()[0]?.model ?? 'unknown cpu';
console.log(`apps benchmark: ${[...parts].join(', ')}${quick ? ' (quick)' : ''}`);
console.log(`machine: ${os.cpus().length} × ${cpuModel}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`gantry: ${runsCompiled() ? 'compiled (dist/)' : 'sources through tsx (dist/ older than src/)'}, log level ${values['log-level']}\n`);

let web: { gantry?: ContenderResult; swarm?: ContenderResult; settings: WebSettings } | undefined;
const exec: ExecResult[] = [];
let list: ListResult | undefined;
const failures: string[] = [];

try {
  if (parts.has('web')) {
    const engine = await docker(['version', '--format', '{{.Server.Version}}']).then((v) => v.trim());
    const swarmBefore = await swarmNodeState();
    console.log(`1. web: ${instances} instances of busybox httpd, health check every ${values['health-interval']} s; rolling update at parallelism ${parallelism} (${order}); Docker engine ${engine}, swarm ${swarmBefore.state}`);
    imageMade = await ensureHttpdImage(IMAGE);
    const settings: WebSettings = { image: IMAGE, instances, parallelism, order, healthIntervalS: int('health-interval', values['health-interval'], 5), logLevel: values['log-level'], timeoutMs };
    const strategy = upgradeStrategyFor(instances, parallelism, order);
    console.log(`   Gantry upgradeStrategy: minimumHealthCapacity ${strategy.minimumHealthCapacity}, maximumOverCapacity ${strategy.maximumOverCapacity}; Swarm --update-parallelism ${parallelism} --update-order ${order} --update-delay 0s`);
    const results: Partial<Record<'gantry' | 'swarm', ContenderResult>> = {};
    for (const who of first === 'gantry' ? (['gantry', 'swarm'] as const) : (['swarm', 'gantry'] as const)) {
      await waitForQuiet(maxLoad, maxWait, `the ${who} side`);
      console.log(`   ${who}: deploying ${instances} ...`);
      try {
        if (who === 'swarm') {
          swarm = await joinSwarm();
          try {
            results.swarm = await runSwarm(settings);
          } finally {
            console.log(`   ${await restoreSwarm(swarm)}`);
            swarm = undefined;
          }
        } else {
          results.gantry = await runGantry(settings);
        }
        const r = results[who]!;
        console.log(`   ${who}: deploy ${secs(r.deploy.ms)}, update ${secs(r.update.ms)}`);
      } catch (err) {
        failures.push(`web, ${who}: ${(err as Error).message}`);
        console.log(`   ${who} FAILED: ${(err as Error).message}`);
      }
    }
    web = { ...results, settings };
    if (imageMade && !values['keep-image']) {
      await docker(['rmi', IMAGE]).catch(() => undefined);
      imageMade = false;
    }
    if (results.gantry || results.swarm) printWeb(results.gantry, results.swarm);
  }

  if (parts.has('exec')) {
    const n = int('exec-instances', values['exec-instances'], quick ? 100 : 1000);
    const passes = values['exec-passes'].split(',');
    for (const p of passes) if (!['off', 'shipped'].includes(p)) throw new Error(`--exec-passes takes off, shipped (got "${p}")`);
    console.log(`\n2. exec: one app of ${n} instances (busybox httpd on $PORT0, TCP health check every ${values['exec-interval']} s) on the embedded agent`);
    for (const pass of passes) {
      const label = pass === 'off' ? 'usage sampling off (every 1 h)' : 'as shipped (usage every 10 s)';
      await waitForQuiet(maxLoad, maxWait, `the exec part (${label})`);
      console.log(`   pass: ${label}`);
      try {
        const r = await runExecScale({
          label,
          ...(pass === 'off' ? { usageInterval: '1h' } : {}),
          maxRssMiB: 3072,
          instances: n,
          healthIntervalS: int('exec-interval', values['exec-interval'], 5),
          logLevel: values['log-level'],
          deployLimitMs: int('exec-limit', values['exec-limit'], 600) * 1000,
          deleteLimitMs: 180_000,
          idleSeconds: int('idle', values.idle, 20),
          getRequests: 50,
        });
        exec.push(r);
        console.log(`   ${label}: ${r.ms !== undefined ? `all healthy in ${secs(r.ms)}` : `${r.healthyAtLimit} of ${n} healthy at the limit`}`);
      } catch (err) {
        failures.push(`exec (${label}): ${(err as Error).message}`);
        console.log(`   FAILED (${label}): ${(err as Error).message}`);
      }
    }
    if (exec.length > 0) printExec(exec);
  }

  if (parts.has('list')) {
    const apps = int('apps', values.apps, quick ? 100 : 1000);
    const perApp = int('per-app', values['per-app'], 10);
    await waitForQuiet(maxLoad, maxWait, 'the list part');
    console.log(`\n3. list: ${apps} apps × ${perApp} instances (${listMode}), GET /v2/apps?embed=apps.tasks`);
    try {
      list = await runListLatency({ apps, perApp, requests: int('requests', values.requests, quick ? 50 : 200), mode: listMode, logLevel: values['log-level'], timeoutMs });
      printList(list);
    } catch (err) {
      failures.push(`list: ${(err as Error).message}`);
      console.log(`   FAILED: ${(err as Error).message}`);
    }
  }
} finally {
  if (!stopping) await cleanupAll();
}

if (failures.length > 0) {
  console.log(`\n${failures.length} part(s) failed:\n${failures.join('\n\n')}`);
  process.exitCode = 1;
}

function breakdownRows(label: string, g: Breakdown, s: Breakdown): string[][] {
  return [
    [`${label}: last container created`, secs(g.lastCreated), secs(s.lastCreated), ''],
    [`${label}: last container started`, secs(g.lastStarted), secs(s.lastStarted), ''],
    [`${label}: container created → started, p50`, msText(g.createdToStartedP50), msText(s.createdToStartedP50), ''],
    ...(g.oldEndToNewStartedP50 !== undefined || s.oldEndToNewStartedP50 !== undefined ? [[`${label}: old container ended → next new started, p50`, msText(g.oldEndToNewStartedP50), msText(s.oldEndToNewStartedP50), '']] : []),
    [`${label}: container start → healthy, p50`, msText(g.startToHealthyP50), msText(s.startToHealthyP50), ''],
  ];
}

/** The two contenders side by side; a contender that failed shows dashes (its failure is printed apart). */
function printWeb(g: ContenderResult | undefined, s: ContenderResult | undefined): void {
  const none: Breakdown = {};
  const ratio = (a: number | undefined, b: number | undefined): string => (a && b ? `${(b / a).toFixed(2)}×` : '-');
  const pick = (r: ContenderResult | undefined, f: (r: ContenderResult) => string): string => (r ? f(r) : '-');
  console.log(`\n${instances} instances, parallelism ${parallelism} (${order}); ratio = swarm time / gantry time (> 1: gantry faster)\n`);
  console.log(
    table(
      ['figure', 'gantry', 'swarm', 'ratio'],
      [
        ['deploy → all healthy', pick(g, (r) => secs(r.deploy.ms)), pick(s, (r) => secs(r.deploy.ms)), ratio(g?.deploy.ms, s?.deploy.ms)],
        ['rolling update → all new healthy', pick(g, (r) => secs(r.update.ms)), pick(s, (r) => secs(r.update.ms)), ratio(g?.update.ms, s?.update.ms)],
        ...breakdownRows('deploy', g?.deploy.breakdown ?? none, s?.deploy.breakdown ?? none),
        ...breakdownRows('update', g?.update.breakdown ?? none, s?.update.breakdown ?? none),
        ['deploy: gantry server CPU', pick(g, (r) => cpu(r.deploy.cpu.server)), '-', ''],
        ['update: gantry server CPU', pick(g, (r) => cpu(r.update.cpu.server)), '-', ''],
        ['deploy: dockerd + containerd CPU', pick(g, (r) => cpu(r.deploy.cpu.engine)), pick(s, (r) => cpu(r.deploy.cpu.engine)), ''],
        ['update: dockerd + containerd CPU', pick(g, (r) => cpu(r.update.cpu.engine)), pick(s, (r) => cpu(r.update.cpu.engine)), ''],
        ['deploy: whole machine CPU', pick(g, (r) => cpu(r.deploy.cpu.machine)), pick(s, (r) => cpu(r.deploy.cpu.machine)), ''],
        ['update: whole machine CPU', pick(g, (r) => cpu(r.update.cpu.machine)), pick(s, (r) => cpu(r.update.cpu.machine)), ''],
        ['gantry server RSS / HWM after', pick(g, (r) => (r.rssMiB ? `${r.rssMiB.rss.toFixed(0)} / ${r.rssMiB.hwm.toFixed(0)} MiB` : '-')), '-', ''],
      ],
    ),
  );
  if (g && s) {
    const goal = s.deploy.ms / g.deploy.ms >= 1 && s.update.ms / g.update.ms >= 1;
    console.log(`goal: Gantry faster on both (ratio ≥ 1.0×): ${goal ? 'met' : 'NOT met'}. Known of others: Marathon ~14 s for 500 instances on 189 agents (issue 18).`);
  }
  for (const note of g?.notes ?? []) console.log(`   gantry: ${note}`);
  for (const note of s?.notes ?? []) console.log(`   swarm: ${note}`);
  if (g?.logLines?.length) console.log(`   gantry server warnings/errors (${g.logLines.length}):\n${g.logLines.slice(0, 20).map((l) => `     ${l}`).join('\n')}`);
}

function printExec(results: ExecResult[]): void {
  const n = results[0]!.instances;
  console.log('');
  const column = (f: (r: ExecResult) => string): string[] => results.map(f);
  console.log(
    table(
      ['figure', ...results.map((r) => r.label), 'known of others'],
      [
        [`POST → all ${n} healthy`, ...column((r) => (r.ms !== undefined ? secs(r.ms) : `${r.healthyAtLimit} healthy at the limit`)), 'Marathon: ~14 s for 500 on 189 agents'],
        ['  last submitted by the app', ...column((r) => secs(r.lastSubmittedMs)), ''],
        ['  last placed (staged)', ...column((r) => secs(r.lastStagedMs)), ''],
        ['  last reported running', ...column((r) => secs(r.lastRunningMs)), ''],
        ['  running → healthy, p50 / max', ...column((r) => `${msText(r.runningToHealthyP50)} / ${msText(r.runningToHealthyMax)}`), ''],
        ['server CPU during the deploy', ...column((r) => `${cpu(r.deployCpu.server)} (${((100 * r.deployCpu.server) / r.deployCpu.wall).toFixed(0)}% of a core)`), ''],
        ['whole machine CPU during the deploy', ...column((r) => `${cpu(r.deployCpu.machine)} (${((100 * r.deployCpu.machine) / r.deployCpu.wall).toFixed(0)}% of a core)`), ''],
        [`server CPU with ${n} running (idle)`, ...column((r) => (r.idleCpuPercent !== undefined ? `${r.idleCpuPercent.toFixed(1)}% of a core` : '-')), ''],
        ['whole machine CPU then', ...column((r) => (r.idleMachinePercent !== undefined ? `${r.idleMachinePercent.toFixed(1)}% of a core` : '-')), ''],
        ['server VmRSS after deploy / after idle', ...column((r) => `${r.rssAfterDeployMiB.toFixed(0)} / ${r.rssAfterIdleMiB?.toFixed(0) ?? '-'} MiB`), ''],
        ['server VmHWM', ...column((r) => `${r.hwmMiB.toFixed(0)} MiB`), ''],
        [`GET /v2/apps?embed=apps.tasks (1 app), p50 / p99`, ...column((r) => `${msText(r.list.p50)} / ${msText(r.list.p99)} (${r.list.tasks} tasks)`), 'Marathon: 12 s at 1,000 tasks'],
        ['DELETE → all ended', ...column((r) => (r.removeMs !== undefined ? secs(r.removeMs) : `${r.endedAtLimit} ended at the limit`)), ''],
      ],
    ),
  );
  for (const r of results) {
    console.log(`   ${r.label}, timeline (s: running / healthy / unhealthy, server CPU s, RSS MiB, load):`);
    console.log(`     ${r.timeline.filter((_, i) => i % 3 === 0 || i === r.timeline.length - 1).map((p) => `${p.s}: ${p.running}/${p.healthy}/${p.unhealthy} ${p.serverCpu.toFixed(0)} ${p.rssMiB.toFixed(0)} ${p.load.toFixed(1)}`).join(' | ')}`);
    for (const note of r.notes) console.log(`   ${r.label}: ${note}`);
    if (r.logLines.length) console.log(`   ${r.label}: server warnings/errors (${r.logLines.length}):\n${r.logLines.slice(0, 20).map((l) => `     ${l}`).join('\n')}`);
  }
}

function printList(r: ListResult): void {
  console.log('');
  console.log(
    table(
      ['figure', 'gantry', 'goal / known of others'],
      [
        [`GET /v2/apps?embed=apps.tasks, ${r.apps} apps, ${r.instances} instances: p50`, msText(r.embed.p50), '< 100 ms'],
        ['  p99 / max', `${msText(r.embed.p99)} / ${msText(r.embed.max)}`, 'Marathon: 12 s at 1,000 tasks'],
        ['  body', `${(r.embed.bytes / 2 ** 20).toFixed(1)} MiB`, ''],
        ['  server CPU per request', msText(r.embed.cpuMsPerRequest), ''],
        ['GET /v2/apps (counts, no tasks): p50 / p99', `${msText(r.plain.p50)} / ${msText(r.plain.p99)}`, ''],
        [`POST ${r.apps} apps (4 at a time): total / p50 / p99`, `${secs(r.postMs)} / ${msText(r.post.p50)} / ${msText(r.post.p99)}`, ''],
        [`first POST → all ${r.instances} healthy (${r.mode === 'hollow' ? `${r.agents} hollow agents` : 'real processes'})`, secs(r.allHealthyMs), ''],
        ['server VmRSS / VmHWM', `${r.rssMiB.toFixed(0)} / ${r.hwmMiB.toFixed(0)} MiB`, ''],
      ],
    ),
  );
  const met = r.embed.p50 < 100 && r.embed.p99 < 100;
  console.log(`goal: < 100 ms: p50 ${r.embed.p50 < 100 ? 'met' : 'NOT met'}, p99 ${r.embed.p99 < 100 ? 'met' : 'NOT met'}${met ? '' : ''}`);
  for (const note of r.notes) console.log(`   ${note}`);
  if (r.logLines.length) console.log(`   server warnings/errors (${r.logLines.length}):\n${r.logLines.slice(0, 20).map((l) => `     ${l}`).join('\n')}`);
}
