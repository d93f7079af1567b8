// Batch scheduler benchmark: 10,000 registered jobs (9,980 daily, their times of day spread over the
// 24 hours, plus 20 firing every 10 s) on Gantry, against Debian's cron daemon holding the same job set
// as root's crontab (its 20 frequent lines every minute: cron's resolution).
//
// Gantry: `./bin/gantry server` in its own process (embedded agent, SQLite in a fresh temporary data
// directory, loopback ports, log level warn). The jobs are posted through /api/v1/jobs (jobs/s). The
// measured window starts on a minute boundary after the posting; during it a client does CRUD on jobs
// at a steady pace (create, get, update, runs, delete; the full listing every 30 s). Every job appends
// its name, its occurrence ($GANTRY_SCHEDULED_TIME) and its shell's start time (`date +%s.%N`) to a
// file; the runs are also read back from the API (scheduledAt, createdAt, startedAt) to split the skew
// into the scheduler's part (run recorded) and the pool's (task submitted, shell started).
//
// cron: root's crontab is saved, ours installed, `cron -f` started, and after the run both undone. By
// default cron runs concurrently with Gantry over the same wall-clock window (same machine, same load:
// the comparison is of the two under identical conditions, and a run takes one window instead of two);
// `--peer sequential` gives cron its own window after Gantry's server has stopped, on an idle machine.
//
// Counted for each: skew (shell start − occurrence) p50/p99/max, misses (an occurrence of the window
// without an execution), duplicates (an occurrence executed twice, anywhere in the file; for Gantry also
// two run records), unexpected executions; RSS (VmRSS sampled, VmHWM) and CPU of the scheduler process.
// After the window Gantry's server is restarted on its data directory with the 10,000 jobs (time to
// ready). Exits non-zero only on errors, never because a figure misses its goal.
//
// Usage: npm run bench:batch [-- --duration 180 | --quick] [--peer concurrent|sequential|off]
//   [--jobs 10000 --frequent 20 --period 10 --api-rate 10 --list-every 30 --post-concurrency 4]
//   [--agent embedded|separate] [--cpu-prof] [--keep] [--no-restart]
//   The duration may also come from BENCH_BATCH_DURATION (seconds). --quick is a 40 s window.
//   --agent separate runs the pool's agent as its own `gantry agent` process instead of the server's
//   embedded one (a diagnostic: what the agent's work costs the scheduler's event loop).
//   --cpu-prof writes the server's CPU profiles (node --cpu-prof) and keeps the temporary directory.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ApiLoad, OPERATIONS, type ApiLoadResult } from './api-load.ts';
import { cronUnavailable, cronVersion, crontabText, startCron, type CronPeer } from './cron.ts';
import { dailyJob, frequentJob, postAll, runsOf, startGantryAgent, startGantryServer, taskTimes, type GantryServer, type RunRecord } from './gantry.ts';
import { account, parseCronLines, parseGantryLines, ProcessSampler, summarize, type Accounting, type Summary } from './measure.ts';
import { DAY_MS, expectedOccurrences, workload, type Occurrence } from './workload.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string' },
    quick: { type: 'boolean', default: false },
    peer: { type: 'string', default: 'concurrent' },
    jobs: { type: 'string', default: '10000' },
    frequent: { type: 'string', default: '20' },
    period: { type: 'string', default: '10' },
    'api-rate': { type: 'string', default: '10' },
    'list-every': { type: 'string', default: '30' },
    'post-concurrency': { type: 'string', default: '4' },
    'cpu-prof': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'no-restart': { type: 'boolean', default: false },
    agent: { type: 'string', default: 'embedded' },
  },
});
const positive = (name: string, text: string): number => {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number (got "${text}")`);
  return n;
};
const durationS = positive('duration', values.duration ?? process.env.BENCH_BATCH_DURATION ?? (values.quick ? '40' : '180'));
const totalJobs = positive('jobs', values.jobs);
const frequentCount = positive('frequent', values.frequent);
const periodS = positive('period', values.period);
const apiRate = positive('api-rate', values['api-rate']);
const listEveryS = positive('list-every', values['list-every']);
const postConcurrency = positive('post-concurrency', values['post-concurrency']);
const peerMode = values.peer;
if (!['concurrent', 'sequential', 'off'].includes(peerMode)) throw new Error(`--peer must be concurrent, sequential or off (got "${peerMode}")`);
if (!['embedded', 'separate'].includes(values.agent)) throw new Error(`--agent must be embedded or separate (got "${values.agent}")`);
const separateAgent = values.agent === 'separate';
if (frequentCount >= totalJobs) throw new Error('--frequent must be less than --jobs');
const GRACE_MS = 10_000;

if (peerMode !== 'off') {
  const why = cronUnavailable();
  if (why) {
    console.error(`the peer cannot run: ${why}`);
    process.exit(2);
  }
}

const w = workload(totalJobs, frequentCount, periodS);
const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
console.log(`batch benchmark: ${totalJobs.toLocaleString('en-US')} jobs (${w.dailySeconds.length.toLocaleString('en-US')} daily + ${frequentCount} every ${periodS} s), window ${durationS} s, API client ${apiRate} req/s + listing every ${listEveryS} s, peer: ${peerMode === 'off' ? 'none' : `${cronVersion()} (${peerMode})`}`);
console.log(`machine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);

const workDir = await mkdtemp(path.join(os.tmpdir(), 'bench-batch-'));
const gantryFile = path.join(workDir, 'gantry-executions.txt');
const cronFile = path.join(workDir, 'cron-executions.txt');
const profileDir = path.join(workDir, 'cpu-profiles');
if (values['cpu-prof']) mkdirSync(profileDir);
const dayStart = Math.floor(Date.now() / DAY_MS) * DAY_MS;
const sleepUntil = (t: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));
/** The first minute boundary at least `leadMs` from now. */
const nextMinute = (leadMs: number): number => Math.ceil((Date.now() + leadMs) / 60_000) * 60_000;
const clock = (t: number): string => new Date(t).toISOString().slice(11, 19);

let server: GantryServer | undefined;
let agent: { pid: number; stop(): Promise<void> } | undefined;
let cron: CronPeer | undefined;
let serverSampler: ProcessSampler | undefined;
let cronSampler: ProcessSampler | undefined;
const cleanup = async (): Promise<void> => {
  serverSampler?.stop();
  cronSampler?.stop();
  await Promise.all([server?.stop(), agent?.stop(), cron?.cleanup()]);
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the server and cron, restoring root's crontab`);
    void cleanup().finally(() => {
      if (!values.keep && !values['cpu-prof']) rmSync(workDir, { recursive: true, force: true });
      process.exit(130);
    });
  });
}

interface GantryFigures {
  postMs: number;
  postLatencies: number[];
  windowStart: number;
  windowEnd: number;
  expected: Occurrence[];
  files: Accounting;
  store: { found: number; missing: number; duplicates: number; skipped: number; notSucceeded: number; recordedMs: number[]; submittedMs: number[] };
  breakdown: Breakdown;
  api: ApiLoadResult;
  rss: ProcessSampler;
  startMs: number;
  restartMs: number | undefined;
  restartRssMiB: number | undefined;
}

interface CronFigures {
  windowStart: number;
  windowEnd: number;
  files: Accounting;
  rss: ProcessSampler;
}

let gantry: GantryFigures;
let cronFigures: CronFigures | undefined;
try {
  const crontab = peerMode === 'off' ? '' : crontabText(w, dayStart, cronFile);
  if (peerMode === 'concurrent') {
    cron = await startCron(crontab, workDir);
    cronSampler = new ProcessSampler(cron.pid);
    console.log(`cron: ${crontab.trimEnd().split('\n').length.toLocaleString('en-US')} crontab lines installed, daemon pid ${cron.pid}${cron.started ? ' (started here)' : ''}`);
  }
  gantry = await runGantry();
  if (peerMode === 'sequential') {
    cron = await startCron(crontab, workDir);
    cronSampler = new ProcessSampler(cron.pid);
    console.log(`\ncron: ${crontab.trimEnd().split('\n').length.toLocaleString('en-US')} crontab lines installed, daemon pid ${cron.pid}${cron.started ? ' (started here)' : ''}`);
    const start = nextMinute(5_000);
    console.log(`cron: window ${clock(start)} to ${clock(start + durationS * 1000)} (alone: Gantry's server has stopped)`);
    cronSampler.phase('settle');
    await sleepUntil(start);
    cronSampler.phase('window');
    await sleepUntil(start + durationS * 1000);
    cronSampler.phase('drain');
    await sleepUntil(start + durationS * 1000 + 2_000);
    cronFigures = cronAccounting(start, start + durationS * 1000);
  } else if (peerMode === 'concurrent') {
    cronFigures = cronAccounting(gantry.windowStart, gantry.windowEnd);
  }
  await cleanup();
} catch (err) {
  await cleanup();
  console.error(`the work directory is kept for inspection: ${workDir}`);
  throw err;
}

printReport(gantry, cronFigures);
console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (the bench client, the server, its tasks and cron share the ${os.cpus().length} cores)`);
if (values.keep || values['cpu-prof']) console.log(`\nkept: ${workDir}${values['cpu-prof'] ? ` (CPU profiles of the server in ${profileDir})` : ''}`);
else rmSync(workDir, { recursive: true, force: true });

// ---- Gantry ---------------------------------------------------------------------------------------

async function runGantry(): Promise<GantryFigures> {
  const dataDir = path.join(workDir, 'gantry-data');
  const profile = { ...(values['cpu-prof'] ? { cpuProfDir: profileDir } : {}), localAgent: !separateAgent };
  server = await startGantryServer(dataDir, profile);
  if (separateAgent) {
    agent = await startGantryAgent(server.url, path.join(workDir, 'agent-data'));
    console.log(`gantry: agent in its own process, pid ${agent.pid} (--agent separate)`);
  }
  serverSampler = new ProcessSampler(server.pid);
  const rss = serverSampler;
  console.log(`gantry: server pid ${server.pid} ready in ${(server.startMs / 1000).toFixed(1)} s, RSS ${rss.phases.get('start')?.lastRssMiB.toFixed(0)} MiB`);
  rss.phase('posting');

  const dailies = w.dailySeconds.map((_, i) => dailyJob(w, i, dayStart, gantryFile));
  const posted = await postAll(server.url, dailies, postConcurrency, (n) => {
    if (n % 2000 === 0) process.stdout.write(`  posted ${n.toLocaleString('en-US')} jobs, RSS ${rss.phases.get('posting')?.lastRssMiB.toFixed(0)} MiB\n`);
  });
  // The window opens on a minute boundary (cron's) at least 5 s after the daily jobs are in; the
  // frequent jobs are anchored on it.
  const windowStart = nextMinute(5_000);
  const windowEnd = windowStart + durationS * 1000;
  const keepRuns = Math.ceil(durationS / periodS) + 20;
  const frequentJobs = Array.from({ length: frequentCount }, (_, i) => frequentJob(i, windowStart, periodS, gantryFile, keepRuns));
  const postedFrequent = await postAll(server.url, frequentJobs, postConcurrency);
  const postMs = posted.ms + postedFrequent.ms;
  const postLatencies = [...posted.latencies, ...postedFrequent.latencies];
  console.log(`gantry: ${totalJobs.toLocaleString('en-US')} jobs posted in ${(postMs / 1000).toFixed(1)} s (${Math.round(totalJobs / (postMs / 1000))} jobs/s, ${postConcurrency} at a time), RSS ${rss.phases.get('posting')?.maxRssMiB.toFixed(0)} MiB max`);
  console.log(`gantry: window ${clock(windowStart)} to ${clock(windowEnd)}${peerMode === 'concurrent' ? ' (cron measured over the same window)' : ''}`);

  rss.phase('settle');
  cronSampler?.phase('settle');
  // Quiet daily jobs (not due within the window, give or take two hours) for the client to update.
  const postStart = Date.now();
  const quietDaily = w.dailySeconds.flatMap((second, i) => {
    let next = dayStart + second * 1000;
    while (next < postStart) next += DAY_MS;
    return next - postStart > 2 * 3_600_000 + durationS * 1000 ? [i] : [];
  });
  const createdSecond = Math.floor(((postStart + 12 * 3_600_000) % DAY_MS) / 1000);
  const api = new ApiLoad({ url: server.url, rate: apiRate, listEveryS, quietDaily, frequent: frequentCount, createdSecond, dailyDefinition: (i) => dailies[i]! });
  await sleepUntil(windowStart);

  rss.phase('window');
  cronSampler?.phase('window');
  api.start();
  const progress = setInterval(() => {
    const lines = existsSync(gantryFile) ? readFileSync(gantryFile, 'utf8').split('\n').length - 1 : 0;
    console.log(`  ${clock(Date.now())} gantry RSS ${rss.phases.get('window')?.lastRssMiB.toFixed(0)} MiB, ${lines} executions so far`);
  }, 30_000);
  await sleepUntil(windowEnd);
  clearInterval(progress);
  const apiResult = await api.stop();
  rss.phase('drain');
  cronSampler?.phase('drain');
  await sleepUntil(windowEnd + GRACE_MS);

  const expected = expectedOccurrences(w, windowStart, windowEnd, { frequentEveryS: periodS, frequentStart: windowStart, resolutionS: 1 });
  const files = account(expected, parseGantryLines(readText(gantryFile)), { from: windowStart, to: windowEnd }, isFrequent);
  const { matched, ...store } = await storeAccounting(server.url, expected);
  const breakdown = await skewBreakdown(server.url, matched, parseGantryLines(readText(gantryFile)));
  rss.stop();
  const startMs = server.startMs;

  let restartMs: number | undefined;
  let restartRssMiB: number | undefined;
  await Promise.all([server.stop(), agent?.stop()]);
  agent = undefined;
  if (!values['no-restart']) {
    server = await startGantryServer(dataDir, profile);
    restartMs = server.startMs;
    await new Promise((r) => setTimeout(r, 2_000));
    const again = new ProcessSampler(server.pid);
    again.stop();
    restartRssMiB = again.phases.get('start')?.lastRssMiB;
    console.log(`gantry: restarted with ${totalJobs.toLocaleString('en-US')} jobs, ready in ${(restartMs / 1000).toFixed(1)} s, RSS ${restartRssMiB?.toFixed(0)} MiB`);
    await server.stop();
  }
  server = undefined;
  return { postMs, postLatencies, windowStart, windowEnd, expected, files, store, breakdown, api: apiResult, rss, startMs, restartMs, restartRssMiB };
}

function isFrequent(job: string): boolean {
  return job.startsWith('every-');
}

function readText(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

/** The run records of the expected occurrences, as the API lists them. */
async function storeAccounting(url: string, expected: readonly Occurrence[]): Promise<GantryFigures['store'] & { matched: Array<{ occurrence: Occurrence; run: RunRecord }> }> {
  const jobs = [...new Set(expected.map((o) => o.job))];
  const runs = new Map<string, RunRecord[]>();
  for (const job of jobs) runs.set(job, await runsOf(url, job));
  const result = { found: 0, missing: 0, duplicates: 0, skipped: 0, notSucceeded: 0, recordedMs: [] as number[], submittedMs: [] as number[], matched: [] as Array<{ occurrence: Occurrence; run: RunRecord }> };
  for (const o of expected) {
    const matching = (runs.get(o.job) ?? []).filter((r) => Date.parse(r.scheduledAt) === o.at);
    const ran = matching.filter((r) => r.state !== 'skipped');
    result.skipped += matching.length - ran.length;
    if (ran.length === 0) {
      result.missing += 1;
      continue;
    }
    result.found += 1;
    const run = ran[0]!;
    result.matched.push({ occurrence: o, run });
    if (run.state !== 'succeeded') result.notSucceeded += 1;
    result.recordedMs.push(Date.parse(run.createdAt) - o.at);
    if (run.startedAt) result.submittedMs.push(Date.parse(run.startedAt) - o.at);
  }
  // Two records for one occurrence, anywhere in the jobs' histories (not only in the window).
  for (const list of runs.values()) {
    const scheduled = list.filter((r) => r.runKey.startsWith('schedule:')).map((r) => r.scheduledAt);
    result.duplicates += scheduled.length - new Set(scheduled).size;
  }
  return result;
}

/**
 * Where the skew of the frequent jobs goes, run by run (ms): the firing loop reaching the occurrence
 * (run recorded), the scheduler's store work before the submit (task created), the pool (placement and
 * the agent reporting the task running), the run learning its task (attach), the shell's start; and per
 * tick, how far apart the occurrences of one instant are recorded (the cost of one firing in the loop).
 */
interface Breakdown {
  stages: Array<{ label: string; values: number[] }>;
  perFiringMs: number[];
}

async function skewBreakdown(url: string, matched: Array<{ occurrence: Occurrence; run: RunRecord }>, executions: ReturnType<typeof parseGantryLines>): Promise<Breakdown> {
  const frequent = matched.filter((m) => isFrequent(m.occurrence.job) && m.run.taskId);
  const shell = new Map(executions.map((e) => [`${e.job}@${e.at}`, e.startMs]));
  const stages = ['scheduled → run recorded', 'run recorded → task created', 'task created → agent reports running', 'task created → run attached', 'agent reports running → shell started'].map((label) => ({ label, values: [] as number[] }));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < frequent.length) {
      const { occurrence, run } = frequent[next++]!;
      const task = await taskTimes(url, run.taskId!);
      if (!task) continue;
      const recorded = Date.parse(run.createdAt);
      const created = Date.parse(task.createdAt);
      const running = task.startedAt ? Date.parse(task.startedAt) : NaN;
      const started = shell.get(`${occurrence.job}@${occurrence.at}`) ?? NaN;
      const values = [recorded - occurrence.at, created - recorded, running - created, run.startedAt ? Date.parse(run.startedAt) - created : NaN, started - running];
      values.forEach((v, i) => Number.isFinite(v) && stages[i]!.values.push(v));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const ticks = new Map<number, number[]>();
  for (const { occurrence, run } of frequent) ticks.set(occurrence.at, [...(ticks.get(occurrence.at) ?? []), Date.parse(run.createdAt)]);
  const perFiringMs = [...ticks.values()].filter((t) => t.length > 1).map((t) => (Math.max(...t) - Math.min(...t)) / (t.length - 1));
  return { stages, perFiringMs };
}

// ---- cron -----------------------------------------------------------------------------------------

function cronAccounting(windowStart: number, windowEnd: number): CronFigures {
  const expected = expectedOccurrences(w, windowStart, windowEnd, { frequentEveryS: 60, frequentStart: windowStart, resolutionS: 60 });
  const files = account(expected, parseCronLines(readText(cronFile)), { from: windowStart, to: windowEnd }, isFrequent);
  cronSampler!.stop();
  return { windowStart, windowEnd, files, rss: cronSampler! };
}

// ---- report ---------------------------------------------------------------------------------------

function printReport(g: GantryFigures, c: CronFigures | undefined): void {
  const ms = (v: number): string => (Number.isNaN(v) ? 'n/a' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`);
  const triple = (s: Summary): string => (s.count === 0 ? 'n/a' : `${ms(s.p50)} / ${ms(s.p99)} / ${ms(s.max)}`);
  const mib = (v: number | undefined): string => (v === undefined ? 'n/a' : `${v.toFixed(0)} MiB`);
  const rows: Array<[string, string, string]> = [];
  const row = (label: string, gantryCell: string, cronCell = ''): void => void rows.push([label, gantryCell, cronCell]);
  const peer = c !== undefined;

  const cronOcc = c ? c.files.expected : 0;
  row('window', `${durationS} s from ${clock(g.windowStart)}`, c ? `${durationS} s from ${clock(c.windowStart)}` : '');
  row('occurrences due in the window', `${g.expected.length} (${g.files.skewFrequentMs.length + g.files.misses.filter((o) => isFrequent(o.job)).length} frequent)`, peer ? `${cronOcc}` : '');
  row('executed / missed', `${g.files.skewMs.length} / ${g.files.misses.length}`, c ? `${c.files.skewMs.length} / ${c.files.misses.length}` : '');
  row('duplicates / unexpected', `${sumDuplicates(g.files)} / ${g.files.unexpected.length}`, c ? `${sumDuplicates(c.files)} / ${c.files.unexpected.length}` : '');
  row('launch skew p50 / p99 / max', triple(summarize(g.files.skewMs)), c ? triple(summarize(c.files.skewMs)) : '');
  row('  frequent jobs', triple(summarize(g.files.skewFrequentMs)), c ? triple(summarize(c.files.skewFrequentMs)) : '');
  row('  daily jobs', triple(summarize(g.files.skewDailyMs)), c ? triple(summarize(c.files.skewDailyMs)) : '');
  row('  run recorded (createdAt)', triple(summarize(g.store.recordedMs)), peer ? '-' : '');
  row('  task submitted (startedAt)', triple(summarize(g.store.submittedMs)), peer ? '-' : '');
  row('run records: found / missing / dup', `${g.store.found} / ${g.store.missing} / ${g.store.duplicates}`, peer ? '-' : '');
  row('  skipped / not succeeded', `${g.store.skipped} / ${g.store.notSucceeded}`, peer ? '-' : '');
  const gw = g.rss.phases.get('window');
  const cw = c?.rss.phases.get('window');
  row('scheduler RSS at start', mib(g.rss.phases.get('start')?.lastRssMiB), c ? mib(c.rss.phases.get('start')?.lastRssMiB) : '');
  row('  after posting the jobs', mib(g.rss.phases.get('posting')?.lastRssMiB), peer ? '-' : '');
  row('  max during the window', mib(gw?.maxRssMiB), c ? mib(cw?.maxRssMiB) : '');
  row('  peak (VmHWM)', mib(g.rss.peakMiB()), c ? mib(c.rss.peakMiB()) : '');
  row('scheduler CPU during the window', gw ? `${gw.cpuPercent.toFixed(1)} % of a core` : 'n/a', cw ? `${cw.cpuPercent.toFixed(2)} % (daemon)` : '');
  row('posting the jobs (POST /api/v1/jobs)', `${Math.round(totalJobs / (g.postMs / 1000))} jobs/s (${(g.postMs / 1000).toFixed(1)} s)`, peer ? 'crontab: < 1 s' : '');
  row('  latency p50 / p99 / max', triple(summarize(g.postLatencies)), '');
  row('server start, empty store', ms(g.startMs), '');
  if (g.restartMs !== undefined) row(`server restart with ${totalJobs.toLocaleString('en-US')} jobs`, `${ms(g.restartMs)}, RSS ${mib(g.restartRssMiB)}`, '');
  row(`API during the window (${g.api.rate.toFixed(1)} req/s)`, 'p50 / p99 / max', 'count, errors');
  for (const op of OPERATIONS) {
    const s = g.api.byOperation.get(op)!;
    row(`  ${op}`, triple(s), `${s.count}, ${s.errors}`);
  }

  row('where the frequent jobs\' skew goes', 'p50 / p99 / max', '');
  for (const stage of g.breakdown.stages) row(`  ${stage.label}`, triple(summarize(stage.values)), '');
  row('  firing loop, per occurrence of a tick', triple(summarize(g.breakdown.perFiringMs)), '');

  const width = Math.max(...rows.map((r) => r[0].length)) + 2;
  const gwidth = Math.max(...rows.map((r) => r[1].length)) + 2;
  console.log(`\n${'figure'.padEnd(width)}${'gantry'.padEnd(gwidth)}${peer ? 'cron' : ''}`);
  for (const [label, a, b] of rows) console.log(`${label.padEnd(width)}${a.padEnd(gwidth)}${b}`);

  for (const [name, files] of [['gantry', g.files], ['cron', c?.files]] as const) {
    if (!files) continue;
    if (files.misses.length) console.log(`${name} missed: ${files.misses.slice(0, 10).map((o) => `${o.job}@${clock(o.at)}`).join(' ')}${files.misses.length > 10 ? ' ...' : ''}`);
    if (files.duplicates.length) console.log(`${name} duplicates: ${files.duplicates.slice(0, 10).map((d) => `${d.key}×${d.count}`).join(' ')}`);
    if (files.unexpected.length) console.log(`${name} unexpected: ${files.unexpected.slice(0, 10).map((e) => `${e.job}@${clock(e.at)}`).join(' ')}`);
  }

  const skewP99 = summarize(g.files.skewMs).p99;
  const peakMB = ((g.rss.peakMiB() ?? Infinity) * 2 ** 20) / 1e6;
  const goal = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  console.log(
    `\ngoals (gantry): skew p99 < 100 ms: ${ms(skewP99)} ${goal(skewP99 < 100)}; zero misses: ${g.files.misses.length + g.store.missing} ${goal(g.files.misses.length + g.store.missing === 0)}; ` +
      `zero duplicates: ${sumDuplicates(g.files) + g.store.duplicates} ${goal(sumDuplicates(g.files) + g.store.duplicates === 0)}; RSS < 300 MB: peak ${peakMB.toFixed(0)} MB ${goal(peakMB < 300)}`,
  );
}

function sumDuplicates(a: Accounting): number {
  return a.duplicates.reduce((sum, d) => sum + d.count - 1, 0);
}
