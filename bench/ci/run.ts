// CI benchmark (issue 5): webhook response time under a burst, time from a push's webhook to its first
// step running, and the platform's overhead per step, against a real `./bin/gantry server`.
//
// Setup: a bare repository on local disk over file://, built with the git CLI (README, 40 source
// files, `.gantry.yml`); the server in its own process with a fresh temporary data directory, loopback
// ports, log level warn, GANTRY_GITHUB_WEBHOOK_SECRET set, its embedded agent with room for every step
// (exec driver), GANTRY_PIPELINES_DIR holding the 20-step pipeline. Deliveries are real GitHub push
// payloads (@octokit/webhooks-examples) with our repository, ref and commits in them, signed as GitHub
// signs them, posted with node:http.
//
//   1. Burst: 500 pushes, each to its own new branch `burst/N` (created in the bare repository
//      beforehand), 50 at a time. No pipeline's branch filter matches `burst/*`, so each is recorded,
//      answered 202 and queued; the server then fetches the ref into its git mirror, reads
//      `.gantry.yml`, filters, and starts nothing: the real path of a push no pipeline wants, with the
//      server's git work running behind the burst, not a build. Then the same 500 delivery ids again
//      (a redelivery: 200 duplicate, nothing started), then 500 deletions of those branches (deleted
//      refs: 200, nothing queued: the receiver alone).
//   2. Webhook → first step: N pushes of a new commit to `latency`, one at a time (the next once the
//      run has ended and its workspace is removed). `.gantry.yml` at the commit has one step that writes
//      its shell's start time. From the run's records: delivery sent → delivery recorded → run recorded
//      (mirror fetch + plan) → clone step started → clone task running → clone finished → first step's
//      task running → its shell started.
//   3. Per-step overhead: R pushes to `steps`, the server pipeline `noop-20` (20 steps `true`, in
//      sequence, exec driver). Per step: its wall time as the run records it (step startedAt →
//      finishedAt) and its task's (task startedAt → finishedAt), the gap from the previous step's end,
//      and overhead = wall + gap − the command's own time (spawning the same script with /bin/sh here,
//      without Gantry: the baseline).
//   Baseline, without Gantry, after the server stopped: GitMirror's git work for a push, the clone
//   step's script, `git clone`, and 20 spawns of the step script.
//
// The peer (--peer buildbot, the default): Buildbot 3.7 from Debian's packages, after Gantry's server
// has stopped, with the same client, repository, secret and deliveries (bench/ci/buildbot.ts,
// bench/ci/peer.ts): the burst, webhook → first step's shell, and 20 steps writing their shells' start
// times, compared as the client and the shells see them. Before each phase the script waits for the
// machine to be quiet and reports what other processes used (bench/ci/quiet.ts). Figures and analysis:
// bench/README.md (CI). Each server first gets a warm-up burst (--warm-up deletions, shown as the cold
// server's figures), then one run of each pipeline.
//
// Usage: npm run bench:ci [-- --burst 500 --concurrency 50 --warm-up 1000 --pushes 30 --runs 5 --steps 20
//   --only burst,first-step,steps --peer buildbot|off --wait-quiet 300 --cpu-prof --keep]. With --cpu-prof the server runs under `node --cpu-prof` (1 ms sampling, or
//   --cpu-prof-interval µs) and `windows.json` beside the profile says when each measured stage ran, on
//   the profile's clock: `node --import tsx bench/ci/profile.ts PROFILE --windows windows.json` shows
//   what the server's main thread did in them.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { baselineLine, measureBaseline, type Baseline } from './baseline.ts';
import { deliveries, finishedRunOf, startGantryServer, taskTimes, waitFor, WEBHOOK_SECRET, type GantryServer, type StepRecord, type TaskTimes } from './gantry.ts';
import { at, median, ms, printTable, summarize, type Summary } from './measure.ts';
import { buildbotUnavailable, buildbotVersion, finishedBuildOf, lastChangeId, startBuildbot, type BuildbotPeer } from './buildbot.ts';
import { comparedBurst, comparedFirstStep, comparedMarks, periods, warmUpBurst, type ComparedBurst, type ComparedFirstStep, type ComparedMarks, type PeerContext, type PeerTarget } from './peer.ts';
import { OtherLoad, waitForQuiet } from './quiet.ts';
import { createRepo, type BenchRepo } from './repo.ts';
import { fileCreateMicros } from './fs-probe.ts';
import { burst, delivery, post, pushBody, type Answer, type Delivery } from './webhook.ts';

const { values } = parseArgs({
  options: {
    burst: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '50' },
    'warm-up': { type: 'string', default: '1000' },
    pushes: { type: 'string', default: '30' },
    runs: { type: 'string', default: '5' },
    steps: { type: 'string', default: '20' },
    'baseline-rounds': { type: 'string', default: '10' },
    only: { type: 'string', default: 'burst,first-step,steps' },
    'cpu-prof': { type: 'boolean', default: false },
    'cpu-prof-interval': { type: 'string' },
    'wait-quiet': { type: 'string', default: '300' },
    peer: { type: 'string', default: 'buildbot' },
    keep: { type: 'boolean', default: false },
  },
});
const positive = (name: string, text: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer (got "${text}")`);
  return n;
};
const BURST = positive('burst', values.burst);
const CONCURRENCY = positive('concurrency', values.concurrency);
const WARM_UP = positive('warm-up', values['warm-up']);
const PUSHES = positive('pushes', values.pushes);
const RUNS = positive('runs', values.runs);
const STEPS = positive('steps', values.steps);
const BASELINE_ROUNDS = positive('baseline-rounds', values['baseline-rounds']);
const PHASES = ['burst', 'first-step', 'steps'] as const;
const only = new Set(values.only.split(',').map((p) => p.trim()));
for (const p of only) if (!(PHASES as readonly string[]).includes(p)) throw new Error(`--only takes ${PHASES.join(', ')} (got "${p}")`);
const REPOSITORY = 'bench/ci-repo';
const clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const GOALS = { webhookP99: 50, firstStep: 200, perStep: 50 };
if (!['buildbot', 'off'].includes(values.peer)) throw new Error(`--peer must be buildbot or off (got "${values.peer}")`);
const peerProblem = values.peer === 'off' ? 'off (--peer off)' : buildbotUnavailable();
const withPeer = peerProblem === null;
const hook = (url: string): string => `${url}/hooks/github`;

const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
console.log(`CI benchmark: burst of ${BURST} deliveries ${CONCURRENCY} at a time, ${PUSHES} pushes one at a time, ${RUNS} runs of ${STEPS} no-op steps`);
console.log(`peer: ${withPeer ? `Buildbot ${buildbotVersion()} (Debian's buildbot + buildbot-worker), after Gantry, same client, same repository` : `none: ${peerProblem}`}`);
console.log(`machine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);

const waitQuietS = Number(values['wait-quiet']);
if (waitQuietS > 0) {
  const quiet = await waitForQuiet(clockTicks, 0.15, 5, waitQuietS);
  console.log(`other processes: ${(quiet.share * 100).toFixed(0)} % of a core over the last 5 s${quiet.busiest ? ` (${quiet.busiest})` : ''}${quiet.share >= 0.15 ? `: still busy after ${quiet.waitedS.toFixed(0)} s, going on (the figures below share the machine)` : quiet.waitedS > 6 ? `, quiet after ${quiet.waitedS.toFixed(0)} s` : ''}`);
}
/**
 * Before each measured phase: waits (up to 3 minutes) until other processes use less than 15 % of a
 * core over 3 s. The machine is shared; what others used during each phase is reported either way.
 */
async function gate(phase: string): Promise<void> {
  if (waitQuietS <= 0) return;
  const quiet = await waitForQuiet(clockTicks, 0.15, 3, 180);
  if (quiet.waitedS > 4) console.log(`  (waited ${quiet.waitedS.toFixed(0)} s for other processes to calm down before ${phase}${quiet.share >= 0.15 ? `; still ${(quiet.share * 100).toFixed(0)} % of a core, going on` : ''})`);
}
const workDir = await mkdtemp(path.join(os.tmpdir(), 'bench-ci-'));
const marksDir = path.join(workDir, 'marks');
const pipelinesDir = path.join(workDir, 'pipelines');
const profileDir = path.join(workDir, 'cpu-profiles');
mkdirSync(marksDir);
mkdirSync(pipelinesDir);
// Steps run as an unprivileged task user: they pass through the work directory (mkdtemp makes it
// 0700) and write their marks as anyone may in /tmp.
chmodSync(workDir, 0o711);
chmodSync(marksDir, 0o1777);
if (values['cpu-prof']) mkdirSync(profileDir);

// `.gantry.yml` in the repository: one step on pushes to `latency`, writing its shell's start time.
const GANTRY_YML = `name: first-step
on:
  push:
    branches: [latency]
steps:
  - name: first
    commands:
      - date +%s%N > ${marksDir}/$CI_COMMIT_SHA
`;
// A server pipeline bound to the repository: STEPS no-op steps in sequence on pushes to `steps`.
const stepNames = Array.from({ length: STEPS }, (_, i) => `s${String(i + 1).padStart(2, '0')}`);
writeFileSync(
  path.join(pipelinesDir, 'noop.yml'),
  `name: noop-${STEPS}\nrepository: ${REPOSITORY}\non:\n  push:\n    branches: [steps]\nsteps:\n${stepNames.map((n) => `  - name: ${n}\n    commands: ['true']\n`).join('')}`,
);
const NOOP = `noop-${STEPS}`;
// For the side-by-side with the peer: STEPS steps that each append their shell's start time.
const MARKS = `marks-${STEPS}`;
writeFileSync(
  path.join(pipelinesDir, 'marks.yml'),
  `name: ${MARKS}\nrepository: ${REPOSITORY}\non:\n  push:\n    branches: [marks]\nsteps:\n${stepNames.map((n) => `  - name: ${n}\n    commands: ['date +%s%N >> ${marksDir}/steps-$CI_COMMIT_SHA']\n`).join('')}`,
);

let server: GantryServer | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the server`);
    void (server?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

const repo = await createRepo(path.join(workDir, 'repo'), REPOSITORY, GANTRY_YML);
await repo.createBranches('burst/', BURST);

let burstFigures: BurstFigures | undefined;
let firstStep: FirstStepFigures | undefined;
let perStep: PerStepFigures | undefined;
let serverCpu: Map<string, { server: number; others: number; busiest: string }>;
interface Compared {
  /** The warm-up burst: the first deliveries a freshly started server answered. */
  cold?: { answers: Answer[]; wallMs: number };
  burst?: ComparedBurst;
  firstStep?: ComparedFirstStep[];
  marks?: ComparedMarks[];
}
const compared: { gantry: Compared; buildbot: Compared } = { gantry: {}, buildbot: {} };
const peerContext: PeerContext = { repo, marksDir, burst: BURST, concurrency: CONCURRENCY };
/** Stages of the measured work on the wall clock (ms), for the profile's analysis. */
const windows: Array<{ label: string; from: number; to: number }> = [];
const window = (label: string, from: number, to: number): void => {
  if (Number.isFinite(from) && Number.isFinite(to) && to >= from) windows.push({ label, from, to });
};
try {
  const profiling = values['cpu-prof'] ? { cpuProfDir: profileDir, ...(values['cpu-prof-interval'] ? { cpuProfInterval: positive('cpu-prof-interval', values['cpu-prof-interval']) } : {}) } : {};
  server = await startGantryServer({ dataDir: path.join(workDir, 'data'), pipelinesDir, ...profiling });
  console.log(`gantry: server pid ${server.pid} ready in ${ms(server.startMs)} at ${server.url}`);
  serverCpu = new Map();
  const cpuMark = cpuMarker(server.pid, serverCpu);
  await warmUp(server.url);
  cpuMark('warm-up');
  if (only.has('burst')) {
    await gate('the burst');
    cpuMark('(waiting)');
    burstFigures = await measureBursts(server.url, cpuMark);
  }
  if (only.has('first-step')) {
    await gate('webhook → first step');
    cpuMark('(waiting)');
    firstStep = await measureFirstStep(server.url);
    cpuMark('webhook → first step');
  }
  if (only.has('steps')) {
    await gate('the step runs');
    cpuMark('(waiting)');
    perStep = await measurePerStep(server.url);
    cpuMark(`${STEPS}-step runs`);
  }
  if (burstFigures) compared.gantry.burst = { pushes: burstFigures.pushes.answers, redelivery: burstFigures.redelivery.answers, deleted: burstFigures.deleted.answers, addedByRedelivery: burstFigures.addedByRedelivery };
  if (firstStep) compared.gantry.firstStep = firstStep.samples.map((s) => ({ sentAt: s.sentAt, answerMs: s.answerMs, shellStarted: s.shellStarted }));
  if (withPeer && only.has('steps')) {
    const url = server.url;
    const target: PeerTarget = {
      name: 'gantry',
      endpoint: hook(url),
      secret: WEBHOOK_SECRET,
      acceptedStatus: 202,
      awaitEnd: async (pipeline, _after, deliveryId) => {
        const run = await finishedRunOf(url, pipeline === 'marks' ? MARKS : 'first-step', deliveryId, 300_000, 100);
        if (run.state !== 'success') throw new Error(`gantry: run of ${pipeline} ended ${run.state}: ${run.reason}`);
      },
    };
    await gate('the steps writing marks');
    cpuMark('(waiting)');
    compared.gantry.marks = await comparedMarks(target, peerContext, RUNS, STEPS, (after) => `steps-${after}`);
    cpuMark(`${STEPS} steps writing marks`);
  }
  await server.stop();
  server = undefined;
  if (values['cpu-prof']) {
    // V8 stamps profiles with CLOCK_MONOTONIC (µs), the clock of process.hrtime: the offset maps them.
    const wallMinusMonotonicMs = Date.now() - Number(process.hrtime.bigint() / 1000n) / 1000;
    writeFileSync(path.join(profileDir, 'windows.json'), JSON.stringify({ wallMinusMonotonicMs, windows }, null, 1));
  }
} catch (err) {
  await server?.stop();
  console.error(server?.output().slice(-4000) ?? '');
  throw err;
}
if (withPeer) await measurePeer();
console.log('\nbaseline without Gantry (server stopped)...');
await gate('the baseline');
const baseline = await measureBaseline(repo, path.join(workDir, 'baseline'), BASELINE_ROUNDS, STEPS);
console.log(`  ${baselineLine(baseline)}`);

report(burstFigures, firstStep, perStep, baseline, serverCpu);
if (withPeer) reportPeer();
if (values.keep || values['cpu-prof']) console.log(`\nkept: ${workDir}${values['cpu-prof'] ? ` (CPU profiles of the server in ${profileDir})` : ''}`);
else rmSync(workDir, { recursive: true, force: true });

// ---- phases ---------------------------------------------------------------------------------------

/** The same deliveries, pushes and step pipelines against Buildbot, once Gantry's server has stopped. */
async function measurePeer(): Promise<void> {
  let peer: BuildbotPeer | undefined;
  try {
    peer = await startBuildbot(path.join(workDir, 'buildbot'), { repoUrl: repo.cloneUrl, marksDir, steps: STEPS, secret: WEBHOOK_SECRET });
    console.log(`\nbuildbot: master pid ${peer.masterPid}, worker pid ${peer.workerPid} at ${peer.url}`);
    const url = peer.url;
    const target: PeerTarget = {
      name: 'buildbot',
      endpoint: `${url}/change_hook/github`,
      secret: WEBHOOK_SECRET,
      acceptedStatus: 200,
      awaitEnd: async (pipeline, after) => {
        const build = await finishedBuildOf(url, pipeline === 'marks' ? `marks-${STEPS}` : 'first-step', after, 300_000, 100);
        if (build.results !== 0) throw new Error(`buildbot: build of ${pipeline} at ${after} ended ${build.state_string} (results ${build.results})`);
      },
      recordedSoFar: () => lastChangeId(url),
    };
    // Warm-up, as Gantry had: the same burst of deletions, one build of each builder.
    compared.buildbot.cold = await warmUpBurst(target, peerContext, WARM_UP);
    await comparedFirstStep(target, peerContext, 1, (after) => `bb-${after}`);
    await comparedMarks(target, peerContext, 1, STEPS, (after) => `bb-steps-${after}`);
    console.log(`buildbot: warmed up (${WARM_UP} deleted-ref deliveries, one build of each builder)`);
    const peerMark = cpuMarker(peer.masterPid, serverCpu);
    if (only.has('burst')) {
      await gate('the peer\'s burst');
      peerMark('(waiting)');
      compared.buildbot.burst = await comparedBurst(target, peerContext);
      peerMark('buildbot: the bursts');
      console.log(`buildbot: burst of ${BURST} answered; the redelivery added ${compared.buildbot.burst.addedByRedelivery} changes`);
      await settle();
    }
    if (only.has('first-step')) {
      await gate('the peer\'s pushes');
      peerMark('(waiting)');
      compared.buildbot.firstStep = await comparedFirstStep(target, peerContext, PUSHES, (after) => `bb-${after}`);
      peerMark('buildbot: webhook → first step');
      console.log(`buildbot: ${PUSHES} pushes built`);
    }
    if (only.has('steps')) {
      await gate('the peer\'s step runs');
      peerMark('(waiting)');
      compared.buildbot.marks = await comparedMarks(target, peerContext, RUNS, STEPS, (after) => `bb-steps-${after}`);
      peerMark(`buildbot: ${STEPS} steps writing marks`);
      console.log(`buildbot: ${RUNS} runs of ${STEPS} steps`);
    }
  } catch (err) {
    console.error(`buildbot: the peer failed: ${(err as Error).message}\n${peer?.output().slice(-3000) ?? ''}`);
  } finally {
    await peer?.stop();
  }
}

/** A burst of deliveries and one run of each pipeline first: a server that has been up a while is warm. */
async function warmUp(url: string): Promise<void> {
  compared.gantry.cold = await warmUpBurst({ endpoint: hook(url), secret: WEBHOOK_SECRET }, peerContext, WARM_UP);
  for (const [branch, pipeline] of [['latency', 'first-step'], ['steps', NOOP], ...(withPeer ? ([['marks', MARKS]] as const) : [])] as const) {
    const { before, after } = await repo.pushCommit(branch);
    const d = delivery(pushBody({ fullName: REPOSITORY, cloneUrl: repo.cloneUrl, ref: `refs/heads/${branch}`, before, after }));
    const answer = await post(hook(url), WEBHOOK_SECRET, d, new http.Agent());
    if (answer.status !== 202) throw new Error(`warm-up push answered ${answer.status} ${JSON.stringify(answer.body)}`);
    const run = await finishedRunOf(url, pipeline, d.id, 120_000);
    if (run.state !== 'success') throw new Error(`warm-up run of ${pipeline} ended ${run.state}: ${run.reason}\n${JSON.stringify(run.steps, null, 1)}`);
  }
  await settle();
  console.log(`gantry: warmed up (${WARM_UP} deleted-ref deliveries ${CONCURRENCY} at a time, one run of each pipeline)`);
}

interface BurstFigures {
  pushes: { answers: Answer[]; wallMs: number };
  /** From the first delivery sent to the last one settled by the planner (fetched, filtered). */
  drainMs: number;
  settled: Map<string, number>;
  redelivery: { answers: Answer[]; wallMs: number };
  deleted: { answers: Answer[]; wallMs: number };
  /** Delivery records added by the redelivery (none: the ids are known). */
  addedByRedelivery: number;
}

async function measureBursts(url: string, cpuMark: (phase: string) => void): Promise<BurstFigures> {
  const bodies = Array.from({ length: BURST }, (_, i) => pushBody({ fullName: REPOSITORY, cloneUrl: repo.cloneUrl, ref: `refs/heads/burst/${i}`, before: null, after: repo.main }));
  const pushDeliveries = bodies.map((body) => delivery(body));
  const started = Date.now();
  const pushes = await burst(hook(url), WEBHOOK_SECRET, pushDeliveries, CONCURRENCY);
  window('burst: pushes answered', started, Date.now());
  cpuMark('burst: pushes answered');
  console.log(`burst: ${BURST} pushes answered in ${ms(pushes.wallMs)}; waiting for the server to fetch and filter them all...`);
  const ids = new Set(pushDeliveries.map((d) => d.id));
  const settled = new Map<string, number>();
  await waitFor(
    async () => {
      const outcomes = (await deliveries(url, 1000)).filter((d) => ids.has(d.deliveryId));
      settled.clear();
      for (const d of outcomes) settled.set(d.outcome, (settled.get(d.outcome) ?? 0) + 1);
      return outcomes.length === ids.size && !settled.has('received');
    },
    600_000,
    'the burst to be processed',
    250,
  );
  const drainMs = Date.now() - started;
  window('burst: planning after the answers', started + pushes.wallMs, started + drainMs);
  cpuMark('burst: planning drained');
  console.log(`burst: all ${BURST} processed ${ms(drainMs)} after the first was sent (${[...settled].map(([k, v]) => `${v} ${k}`).join(', ')})`);
  const recordsBefore = (await deliveries(url, 1000)).length;
  await gate('the redelivery');
  cpuMark('(waiting)');
  const redeliveryStart = Date.now();
  const redelivery = await burst(hook(url), WEBHOOK_SECRET, pushDeliveries, CONCURRENCY);
  window('burst: redelivery', redeliveryStart, Date.now());
  const addedByRedelivery = (await deliveries(url, 1000)).length - recordsBefore;
  cpuMark('burst: redelivery');
  const deletions: Delivery[] = Array.from({ length: BURST }, (_, i) => delivery(pushBody({ fullName: REPOSITORY, cloneUrl: repo.cloneUrl, ref: `refs/heads/burst/${i}`, before: repo.main, after: repo.main, deleted: true })));
  await gate('the deleted refs');
  cpuMark('(waiting)');
  const deletedStart = Date.now();
  const deleted = await burst(hook(url), WEBHOOK_SECRET, deletions, CONCURRENCY);
  window('burst: deleted refs', deletedStart, Date.now());
  cpuMark('burst: deleted refs');
  await settle();
  return { pushes, drainMs, settled, redelivery, deleted, addedByRedelivery };
}

interface FirstStepSample {
  sentAt: number;
  answerMs: number;
  recorded: number;
  runCreated: number;
  runStarted: number;
  cloneStep: StepRecord;
  cloneTask: TaskTimes;
  firstStep: StepRecord;
  firstTask: TaskTimes;
  shellStarted: number;
  runFinished: number;
}

interface FirstStepFigures {
  samples: FirstStepSample[];
  /**
   * Median µs to create a file (fs-probe.ts), before and after the pushes: in the server's data
   * directory (the mirror, the task logs), and in a new directory beside the workspaces (where a clone
   * step writes; the agent flags that root so that each new tree gets its own block group).
   */
  fileCreateUs: { before: number; after: number; workspacesBefore: number; workspacesAfter: number };
}

async function measureFirstStep(url: string): Promise<FirstStepFigures> {
  const samples: FirstStepSample[] = [];
  const dataDir = path.join(workDir, 'data');
  const workspacesDir = path.join(dataDir, 'agent', 'workspaces');
  const createdBefore = fileCreateMicros(dataDir);
  const workspacesBefore = fileCreateMicros(workspacesDir);
  const agent = new http.Agent({ keepAlive: false });
  const pending: Array<{ id: string; sample: Omit<FirstStepSample, 'recorded'> }> = [];
  for (let i = 0; i < PUSHES; i++) {
    const { before, after } = await repo.pushCommit('latency');
    const d = delivery(pushBody({ fullName: REPOSITORY, cloneUrl: repo.cloneUrl, ref: 'refs/heads/latency', before, after }));
    const answer = await post(hook(url), WEBHOOK_SECRET, d, agent);
    if (answer.status !== 202) throw new Error(`push ${i} answered ${answer.status} ${JSON.stringify(answer.body)}`);
    // No API calls until the step has run: only the marker file its shell writes is watched.
    const mark = path.join(marksDir, after);
    await waitFor(() => existsSync(mark) && readFileSync(mark, 'utf8').trim() !== '', 60_000, `the first step of push ${i}`, 2);
    const run = await finishedRunOf(url, 'first-step', d.id, 60_000, 50);
    if (run.state !== 'success') throw new Error(`run of push ${i} ended ${run.state}: ${run.reason}`);
    const cloneStep = run.steps.find((s) => s.name === 'clone')!;
    const firstStep = run.steps.find((s) => s.name === 'first')!;
    const [cloneTask, firstTask] = await Promise.all([taskTimes(url, cloneStep.taskId!), taskTimes(url, firstStep.taskId!)]);
    pending.push({
      id: d.id,
      sample: {
        sentAt: answer.sentAt,
        answerMs: answer.ms,
        runCreated: at(run.createdAt),
        runStarted: at(run.startedAt),
        cloneStep,
        cloneTask,
        firstStep,
        firstTask,
        shellStarted: Number(readFileSync(mark, 'utf8').trim()) / 1e6,
        runFinished: at(run.finishedAt),
      },
    });
    await settle();
    if ((i + 1) % 10 === 0) console.log(`  webhook → first step: ${i + 1} of ${PUSHES} pushes`);
  }
  agent.destroy();
  const received = new Map((await deliveries(url, 1000)).map((d) => [d.deliveryId, at(d.receivedAt)]));
  for (const { id, sample } of pending) samples.push({ ...sample, recorded: received.get(id) ?? NaN });
  const fileCreateUs = { before: createdBefore, after: fileCreateMicros(dataDir), workspacesBefore, workspacesAfter: fileCreateMicros(workspacesDir) };
  for (const s of samples) {
    window('first: delivery recorded → run recorded (mirror, plan)', s.recorded, s.runCreated);
    window('first: run recorded → clone task staged', s.runCreated, at(s.cloneTask.stagedAt));
    window('first: clone task staged → running', at(s.cloneTask.stagedAt), at(s.cloneTask.startedAt));
    window('first: clone task running → finished', at(s.cloneTask.startedAt), at(s.cloneTask.finishedAt));
    window('first: clone finished → first task staged', at(s.cloneTask.finishedAt), at(s.firstTask.stagedAt));
    window('first: first task staged → running', at(s.firstTask.stagedAt), at(s.firstTask.startedAt));
  }
  return { samples, fileCreateUs };
}

interface StepSample {
  run: number;
  position: number;
  step: StepRecord;
  task: TaskTimes;
  previousEnd: number;
}

interface PerStepFigures {
  samples: StepSample[];
  runs: Array<{ total: number; stepsSection: number; cloneSection: number }>;
}

async function measurePerStep(url: string): Promise<PerStepFigures> {
  const samples: StepSample[] = [];
  const runs: PerStepFigures['runs'] = [];
  for (let r = 0; r < RUNS; r++) {
    const { before, after } = await repo.pushCommit('steps');
    const d = delivery(pushBody({ fullName: REPOSITORY, cloneUrl: repo.cloneUrl, ref: 'refs/heads/steps', before, after }));
    const answer = await post(hook(url), WEBHOOK_SECRET, d, new http.Agent());
    if (answer.status !== 202) throw new Error(`steps push ${r} answered ${answer.status}`);
    const run = await finishedRunOf(url, NOOP, d.id, 300_000, 250);
    if (run.state !== 'success') throw new Error(`run ${r} of ${NOOP} ended ${run.state}: ${run.reason}`);
    const steps = [...run.steps].sort((a, b) => a.position - b.position);
    const tasks = await Promise.all(steps.map((s) => taskTimes(url, s.taskId!)));
    for (let i = 1; i < steps.length; i++) {
      const sample = { run: r, position: i, step: steps[i]!, task: tasks[i]!, previousEnd: at(steps[i - 1]!.finishedAt) };
      samples.push(sample);
      window('step: previous step finished → task staged', sample.previousEnd, at(sample.task.stagedAt));
      window('step: task staged → running', at(sample.task.stagedAt), at(sample.task.startedAt));
      window('step: task running → finished', at(sample.task.startedAt), at(sample.task.finishedAt));
      window('step: task finished → step finished', at(sample.task.finishedAt), at(sample.step.finishedAt));
    }
    const last = steps[steps.length - 1]!;
    runs.push({ total: at(run.finishedAt) - at(run.startedAt), stepsSection: at(last.finishedAt) - at(steps[0]!.finishedAt), cloneSection: at(steps[0]!.finishedAt) - at(run.startedAt) });
    await settle();
    console.log(`  ${NOOP}: run ${r + 1} of ${RUNS}: ${ms(runs[r]!.total)} (${STEPS} steps: ${ms(runs[r]!.stepsSection)})`);
  }
  return { samples, runs };
}

/** Lets the previous run's workspace removal (a task submitted as the run ends) finish first. */
function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 300));
}

// ---- CPU of the server per phase ------------------------------------------------------------------


/** CPU seconds (user + system) of a process and its reaped children, from /proc/PID/stat. */
function cpuOf(pid: number): { self: number; children: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { self: (Number(f[11]) + Number(f[12])) / clockTicks, children: (Number(f[13]) + Number(f[14])) / clockTicks };
  } catch {
    return undefined;
  }
}

/** Marks the end of a phase: the server's CPU in it, and other processes' (outside this benchmark). */
function cpuMarker(pid: number, into: Map<string, { server: number; others: number; busiest: string }>): (phase: string) => void {
  let last = cpuOf(pid);
  let lastAt = performance.now();
  const others = new OtherLoad(clockTicks);
  return (phase) => {
    const now = cpuOf(pid);
    const t = performance.now();
    const other = others.mark();
    if (now && last) into.set(phase, { server: (now.self - last.self) / ((t - lastAt) / 1000), others: other.share, busiest: other.busiest });
    last = now;
    lastAt = t;
  };
}

// ---- report ---------------------------------------------------------------------------------------

function triple(s: Summary): string {
  return `${ms(s.p50)} / ${ms(s.p99)} / ${ms(s.max)}`;
}

function verdict(ok: boolean): string {
  return ok ? 'met' : 'NOT met';
}

function report(b: BurstFigures | undefined, f: FirstStepFigures | undefined, p: PerStepFigures | undefined, base: Baseline, cpuShare: Map<string, { server: number; others: number; busiest: string }>): void {
  const goals: string[][] = [];
  if (b) goals.push(reportBursts(b));
  if (f) goals.push(reportFirstStep(f));
  if (p) goals.push(reportPerStep(p, base));
  reportBaseline(base);
  console.log('\nCPU per phase (share of one core): the server process itself (main thread + libuv pool; not its tasks; for buildbot: the master), and every process outside this benchmark');
  for (const [phase, v] of cpuShare) if (!phase.startsWith('(')) console.log(`  ${phase.padEnd(28)} server ${(v.server * 100).toFixed(0).padStart(3)} %   others ${(v.others * 100).toFixed(0).padStart(3)} %${v.busiest ? ` (${v.busiest})` : ''}`);
  console.log('\ngoals');
  printTable(['goal', 'measured', '', 'known of others'], goals);
}

function reportBursts(b: BurstFigures): string[] {
  const share2xx = (answers: Answer[]) => answers.filter((a) => a.status >= 200 && a.status < 300).length;
  const statuses = (answers: Answer[]) => {
    const counts = new Map<number, number>();
    for (const a of answers) counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
    return [...counts].map(([s, n]) => `${n}×${s}`).join(' ');
  };
  console.log(`\n1. Webhook response time, ${BURST} deliveries ${CONCURRENCY} at a time (POST /hooks/github, request written → answer read)`);
  const rows: string[][] = [];
  const row = (label: string, x: { answers: Answer[]; wallMs: number }, extra: string) => {
    const s = summarize(x.answers.map((a) => a.ms));
    rows.push([label, triple(s), ms(s.mean), `${((100 * share2xx(x.answers)) / x.answers.length).toFixed(1)} % (${statuses(x.answers)})`, `${Math.round((x.answers.length / x.wallMs) * 1000)}/s`, extra]);
  };
  row('push to burst/N (no pipeline matches)', b.pushes, `queued; the planner settled all ${BURST} ${ms(b.drainMs)} after the first was sent (${[...b.settled].map(([k, v]) => `${v} ${k}`).join(', ')})`);
  const duplicates = b.redelivery.answers.filter((a) => a.status === 200 && a.body.duplicate === true).length;
  row('redelivery of the same ids', b.redelivery, `${duplicates} of ${BURST} answered 200 duplicate`);
  row('deleted refs (receiver only)', b.deleted, 'recorded, nothing queued');
  const cold = compared.gantry.cold;
  if (cold) row(`the warm-up: first ${WARM_UP} after start`, cold, 'deleted refs to a freshly started server (cold code), before the figures above');
  printTable(['deliveries', 'p50 / p99 / max', 'mean', '2xx', 'rate', ''], rows);
  const p99 = summarize(b.pushes.answers.map((a) => a.ms)).p99;
  return [`webhook p99 < ${GOALS.webhookP99} ms (burst of pushes)`, `p99 ${ms(p99)}`, verdict(p99 < GOALS.webhookP99), 'GitHub waits up to 10 s for an answer'];
}

function reportFirstStep(f: FirstStepFigures): string[] {
  const fs = f.samples;
  const fromSent = (pick: (s: FirstStepSample) => number) => summarize(fs.map((s) => pick(s) - s.sentAt));
  const between = (a: (s: FirstStepSample) => number, z: (s: FirstStepSample) => number) => summarize(fs.map((s) => z(s) - a(s)));
  console.log(`\n2. Webhook → first step, ${fs.length} pushes of a new commit one at a time (ms from the delivery being sent; the run's and tasks' own timestamps)`);
  const rows: string[][] = [];
  const row = (label: string, s: Summary, stage?: Summary) => rows.push([label, triple(s), stage ? `${ms(stage.p50)} / ${ms(stage.p99)}` : '']);
  row('webhook answered (202)', summarize(fs.map((s) => s.answerMs)));
  row('delivery recorded (receivedAt)', fromSent((s) => s.recorded));
  row('run recorded (mirror fetch, .gantry.yml, plan)', fromSent((s) => s.runCreated), between((s) => s.recorded, (s) => s.runCreated));
  row('run started', fromSent((s) => s.runStarted), between((s) => s.runCreated, (s) => s.runStarted));
  row('clone step started (step record)', fromSent((s) => at(s.cloneStep.startedAt)), between((s) => s.runStarted, (s) => at(s.cloneStep.startedAt)));
  row('  clone task created (submitted)', fromSent((s) => at(s.cloneTask.createdAt)), between((s) => at(s.cloneStep.startedAt), (s) => at(s.cloneTask.createdAt)));
  row('  clone task staged on the agent', fromSent((s) => at(s.cloneTask.stagedAt)), between((s) => at(s.cloneTask.createdAt), (s) => at(s.cloneTask.stagedAt)));
  row('  clone task running', fromSent((s) => at(s.cloneTask.startedAt)), between((s) => at(s.cloneTask.stagedAt), (s) => at(s.cloneTask.startedAt)));
  row('  clone task finished (git init/fetch/checkout)', fromSent((s) => at(s.cloneTask.finishedAt)), between((s) => at(s.cloneTask.startedAt), (s) => at(s.cloneTask.finishedAt)));
  row('clone step finished (step record)', fromSent((s) => at(s.cloneStep.finishedAt)), between((s) => at(s.cloneTask.finishedAt), (s) => at(s.cloneStep.finishedAt)));
  row('first step started (step record)', fromSent((s) => at(s.firstStep.startedAt)), between((s) => at(s.cloneStep.finishedAt), (s) => at(s.firstStep.startedAt)));
  row('  first task created', fromSent((s) => at(s.firstTask.createdAt)), between((s) => at(s.firstStep.startedAt), (s) => at(s.firstTask.createdAt)));
  row('  first task staged', fromSent((s) => at(s.firstTask.stagedAt)), between((s) => at(s.firstTask.createdAt), (s) => at(s.firstTask.stagedAt)));
  row('  FIRST STEP RUNNING (task startedAt)', fromSent((s) => at(s.firstTask.startedAt)), between((s) => at(s.firstTask.stagedAt), (s) => at(s.firstTask.startedAt)));
  row('  its shell started (date +%s%N)', fromSent((s) => s.shellStarted), between((s) => at(s.firstTask.startedAt), (s) => s.shellStarted));
  row('run finished', fromSent((s) => s.runFinished), between((s) => at(s.firstTask.startedAt), (s) => s.runFinished));
  printTable(['milestone', 'from sent: p50 / p99 / max', 'stage (from the line above): p50 / p99'], rows);
  console.log(`limits the driver enforced: clone task "${fs[0]?.cloneTask.limits ?? 'n/a'}", first step "${fs[0]?.firstTask.limits ?? 'n/a'}"`);
  const { before, after, workspacesBefore, workspacesAfter } = f.fileCreateUs;
  console.log(`creating a file (median of 200), before the pushes / after: in the server's data directory ${before.toFixed(0)} / ${after.toFixed(0)} µs, in a new directory beside the workspaces ${workspacesBefore.toFixed(0)} / ${workspacesAfter.toFixed(0)} µs; a clone step creates ~50, each task ~5`);
  const first = fromSent((s) => at(s.firstTask.startedAt));
  const clone = fromSent((s) => at(s.cloneStep.startedAt));
  return [
    `webhook → first step < ${GOALS.firstStep} ms`,
    `p50 ${ms(first.p50)}, p99 ${ms(first.p99)} (→ clone step started: ${ms(clone.p50)} / ${ms(clone.p99)})`,
    `p50 ${verdict(first.p50 < GOALS.firstStep)}, p99 ${verdict(first.p99 < GOALS.firstStep)}`,
    'GitHub Actions: a runner starts in seconds on average; Woodpecker publishes no number',
  ];
}

function reportPerStep(p: PerStepFigures, base: Baseline): string[] {
  const st = p.samples;
  const commandMs = median(base.spawnMs);
  const stepWall = st.map((s) => at(s.step.finishedAt) - at(s.step.startedAt));
  const taskWall = st.map((s) => at(s.task.finishedAt) - at(s.task.startedAt));
  const gap = st.map((s) => at(s.step.startedAt) - s.previousEnd);
  const period = st.map((s) => at(s.step.finishedAt) - s.previousEnd);
  const overhead = period.map((v) => v - commandMs);
  console.log(`\n3. Per-step overhead, ${RUNS} runs × ${STEPS} steps \`true\` in sequence (exec driver); command time = spawning the step's script with /bin/sh without Gantry, median ${ms(commandMs)}`);
  const rows: string[][] = [];
  const row = (label: string, values: number[]) => {
    const s = summarize(values);
    rows.push([label, ms(s.mean), ms(s.p50), ms(s.p99), ms(s.max)]);
  };
  row('step wall (step startedAt → finishedAt)', stepWall);
  row('  step started → task created', st.map((s) => at(s.task.createdAt) - at(s.step.startedAt)));
  row('  task created → staged', st.map((s) => at(s.task.stagedAt) - at(s.task.createdAt)));
  row('  task staged → running', st.map((s) => at(s.task.startedAt) - at(s.task.stagedAt)));
  row('  task running → finished (task wall)', taskWall);
  row('  task finished → step finished', st.map((s) => at(s.step.finishedAt) - at(s.task.finishedAt)));
  row('gap (previous step finished → this started)', gap);
  row('step period (previous finished → this finished)', period);
  row('OVERHEAD per step (period − command time)', overhead);
  printTable(['per step', 'mean', 'p50', 'p99', 'max'], rows);
  const totals = summarize(p.runs.map((r) => r.total));
  const sections = summarize(p.runs.map((r) => r.stepsSection));
  const clones = summarize(p.runs.map((r) => r.cloneSection));
  console.log(`run total (run startedAt → finishedAt): median ${ms(totals.p50)}, max ${ms(totals.max)}; clone ${ms(clones.p50)}; the ${STEPS} steps (clone finished → last step finished) ${ms(sections.p50)}`);
  console.log(`same work without Gantry: clone script ${ms(median(base.cloneScriptMs))} (git clone ${ms(median(base.gitCloneMs))}) + ${STEPS} spawns ${ms(median(base.twentySpawnsMs))} = ${ms(median(base.cloneScriptMs) + median(base.twentySpawnsMs))}`);
  const over = summarize(overhead);
  return [
    `overhead < ${GOALS.perStep} ms per step`,
    `mean ${ms(over.mean)}, p50 ${ms(over.p50)}, p99 ${ms(over.p99)}`,
    `mean ${verdict(over.mean < GOALS.perStep)}, p99 ${verdict(over.p99 < GOALS.perStep)}`,
    `the step's script spawned without Gantry: ${ms(commandMs)}`,
  ];
}

function reportBaseline(base: Baseline): void {
  const mm = (values: number[]) => `${ms(median(values))} / ${ms(Math.max(...values))}`;
  console.log(`\nbaseline without Gantry (${BASELINE_ROUNDS} rounds, median / max): server-side git work per push (GitMirror fetch + .gantry.yml + diff) ${mm(base.mirrorMs)}; clone step script ${mm(base.cloneScriptMs)}; git clone ${mm(base.gitCloneMs)}; sh -c step ${mm(base.spawnMs)}`);
  const rawFirst = median(base.mirrorMs) + median(base.cloneScriptMs) + median(base.spawnMs);
  console.log(`  so the work from a push to its first step, done directly, takes about ${ms(rawFirst)} (mirror + clone script + one spawn)`);
  if (base.cloneScriptLimitedMs.length) {
    console.log(`  under the CPU quota Gantry gives those tasks (cpus 0.1; ${base.cgroupNote}): clone script ${mm(base.cloneScriptLimitedMs)}, sh -c step ${mm(base.spawnLimitedMs)}`);
  } else {
    console.log(`  (no CPU-quota baseline: ${base.cgroupNote})`);
  }
}

function reportPeer(): void {
  const g = compared.gantry;
  const b = compared.buildbot;
  console.log(`\nSide by side: Gantry and Buildbot ${buildbotVersion()}, same client, deliveries, repository and steps, one after the other (what the client and the steps' shells see)`);
  const rows: string[][] = [];
  const answers = (x: Answer[] | undefined) => (x ? triple(summarize(x.map((a) => a.ms))) : 'n/a');
  const twoxx = (x: Answer[] | undefined) => (x ? `${((100 * x.filter((a) => a.status >= 200 && a.status < 300).length) / x.length).toFixed(1)} %` : 'n/a');
  rows.push([`the warm-up: the first ${WARM_UP} deliveries after start (deleted refs): p50 / p99 / max`, answers(g.cold?.answers), answers(b.cold?.answers)]);
  rows.push([`burst of ${BURST} pushes, ${CONCURRENCY} at a time: p50 / p99 / max`, answers(g.burst?.pushes), answers(b.burst?.pushes)]);
  rows.push(['  answered 2xx', twoxx(g.burst?.pushes), twoxx(b.burst?.pushes)]);
  rows.push(['  the same delivery ids again: p50 / p99 / max', answers(g.burst?.redelivery), answers(b.burst?.redelivery)]);
  rows.push([
    '  what the redelivery recorded',
    g.burst ? `${g.burst.redelivery.filter((a) => a.body.duplicate === true).length} × 200 duplicate, ${g.burst.addedByRedelivery} new records` : 'n/a',
    b.burst ? `${b.burst.redelivery.filter((a) => a.status === 200).length} × 200, ${b.burst.addedByRedelivery ?? '?'} changes recorded again` : 'n/a',
  ]);
  rows.push([`  ${BURST} deleted refs: p50 / p99 / max`, answers(g.burst?.deleted), answers(b.burst?.deleted)]);
  const firstOf = (x: ComparedFirstStep[] | undefined) => (x ? triple(summarize(x.map((s) => s.shellStarted - s.sentAt))) : 'n/a');
  rows.push([`webhook → first step's shell started (${PUSHES} pushes, clone included): p50 / p99 / max`, firstOf(g.firstStep), firstOf(b.firstStep)]);
  const answer1 = (x: ComparedFirstStep[] | undefined) => (x ? triple(summarize(x.map((s) => s.answerMs))) : 'n/a');
  rows.push(['  the push answered: p50 / p99 / max', answer1(g.firstStep), answer1(b.firstStep)]);
  const period = (x: ComparedMarks[] | undefined) => {
    if (!x) return 'n/a';
    const s = summarize(periods(x));
    return `${ms(s.mean)} / ${ms(s.p50)} / ${ms(s.p99)}`;
  };
  rows.push([`${STEPS} steps \`date +%s%N >> file\`: shell-to-shell period mean / p50 / p99`, period(g.marks), period(b.marks)]);
  const span = (x: ComparedMarks[] | undefined, pick: (s: ComparedMarks) => number) => (x ? ms(summarize(x.map(pick)).p50) : 'n/a');
  rows.push(['  webhook → first step\'s shell (median)', span(g.marks, (s) => s.marks[0]! - s.sentAt), span(b.marks, (s) => s.marks[0]! - s.sentAt)]);
  rows.push([`  first → last (${STEPS}th) step's shell (median)`, span(g.marks, (s) => s.marks[s.marks.length - 1]! - s.marks[0]!), span(b.marks, (s) => s.marks[s.marks.length - 1]! - s.marks[0]!)]);
  printTable(['', 'gantry', 'buildbot'], rows);
}
