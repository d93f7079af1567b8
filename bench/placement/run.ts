// Placement benchmark: a simulated pool (default 5,000 agents) and workload (100,000 tasks with a mix
// of sizes and constraints) through the real ClusterState and store, for two contenders in one run:
//   gantry      placeTask as shipped: a random visiting order, stop after max(2, ceil(log2 N)) feasible
//   full-scan   the classic approach: score every feasible agent and take the best
// Each contender runs in its own child process, so its peak RSS and heap are its own.
// Usage: npm run bench:placement [-- --agents N --tasks N --batch N --seed N --only gantry|full-scan]
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { seededRng } from '../../src/cluster/placement/seeded-rng.ts';
import { runContender, type ContenderOptions, type ContenderResult } from './contender.ts';
import { simulatedAgents, simulatedTasks } from './simulated-cluster.ts';

const { values } = parseArgs({
  options: {
    agents: { type: 'string', default: '5000' },
    tasks: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '500' },
    seed: { type: 'string', default: '42' },
    only: { type: 'string' },
    /** Internal: a child prints its result as one `RESULT {json}` line for the parent. */
    'result-line': { type: 'boolean', default: false },
  },
});

const count = (name: string, text: string): number => {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer (got "${text}")`);
  return n;
};
const agentCount = count('agents', values.agents);
const taskCount = count('tasks', values.tasks);
const batchSize = count('batch', values.batch);
const seed = count('seed', values.seed);

const CONTENDERS: Record<string, Omit<ContenderOptions, 'seed' | 'batchSize'>> = {
  gantry: { name: 'gantry (log2 N sample)' },
  'full-scan': { name: 'full-scan (score all)', maxCandidates: Infinity },
};

if (values.only) {
  const contender = CONTENDERS[values.only];
  if (!contender) throw new Error(`--only is one of ${Object.keys(CONTENDERS).join(', ')} (got "${values.only}")`);
  if (!values['result-line']) printHeader();
  const agents = simulatedAgents(agentCount, seededRng(seed));
  const tasks = simulatedTasks(taskCount, seededRng(seed + 1));
  const result = await runContender(agents, tasks, { ...contender, seed, batchSize });
  print(result);
  if (values['result-line']) console.log(`RESULT ${JSON.stringify(result)}`);
} else {
  printHeader();
  const results: ContenderResult[] = [];
  const script = fileURLToPath(import.meta.url);
  for (const key of Object.keys(CONTENDERS)) {
    const args = ['--agents', String(agentCount), '--tasks', String(taskCount), '--batch', String(batchSize), '--seed', String(seed)];
    const child = spawnSync(process.execPath, [...process.execArgv, script, ...args, '--only', key, '--result-line'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
    });
    if (child.status !== 0) throw new Error(`contender ${key} failed (exit ${child.status})`);
    for (const line of child.stdout.split('\n')) {
      if (line.startsWith('RESULT ')) results.push(JSON.parse(line.slice('RESULT '.length)) as ContenderResult);
      else if (line !== '') console.log(line);
    }
    console.log('');
  }
  const [a, b] = results as [ContenderResult, ContenderResult];
  console.log(
    `sampling vs full scan: ${(a.tasks / a.decideMs / (b.tasks / b.decideMs)).toFixed(1)}× the decisions/s, ` +
      `${(b.latencyUs.p50 / a.latencyUs.p50).toFixed(1)}× lower p50, ${(b.loopMs / a.loopMs).toFixed(1)}× faster loop with the store`,
  );
}

function printHeader(): void {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  console.log(`placement benchmark: ${agentCount} agents, ${taskCount} tasks, store batch ${batchSize}, seed ${seed}`);
  console.log(`machine: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, SQLite store\n`);
}

function print(r: ContenderResult): void {
  const perSecond = (n: number, ms: number): string => Math.round((n / ms) * 1000).toLocaleString('en-US');
  console.log(`${r.name}`);
  console.log(`  placements/s       ${perSecond(r.tasks, r.loopMs)} with store writes; decisions alone ${perSecond(r.tasks, r.decideMs)}/s`);
  console.log(`  decision latency   p50 ${r.latencyUs.p50.toFixed(1)} µs, p99 ${r.latencyUs.p99.toFixed(1)} µs, max ${(r.latencyUs.max / 1000).toFixed(1)} ms`);
  console.log(
    `  wall time          ${(r.loopMs / 1000).toFixed(2)} s loop (${(r.decideMs / 1000).toFixed(2)} s deciding, ` +
      `${(r.storeMs / 1000).toFixed(2)} s store), + ${(r.insertMs / 1000).toFixed(2)} s inserting the queued tasks`,
  );
  console.log(`  placed / rejected  ${r.placed} / ${r.rejected}`);
  console.log(`  pool used at end   cpus ${(r.usedShare.cpus * 100).toFixed(0)}%, mem ${(r.usedShare.mem * 100).toFixed(0)}%`);
  console.log(`  peak RSS           ${r.peakRssMiB.toFixed(0)} MiB`);
}
