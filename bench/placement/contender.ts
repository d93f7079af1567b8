// One benchmark contender: the whole workload through ClusterState, as the master's placement loop
// does it: decide (place), apply (commit), and record in the store (stageMany per batch, the waiting
// reason for tasks no agent takes). Each contender gets its own fresh SQLite database.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClusterState } from '../../src/cluster/placement/index.ts';
import { seededRng } from '../../src/cluster/placement/seeded-rng.ts';
import { newQueuedTask } from '../../src/cluster/new-task.ts';
import type { TaskSpec } from '../../src/cluster/types.ts';
import { ClusterStore, type Staging } from '../../src/cluster/store/cluster-store.ts';
import { openStore } from '../../src/store/index.ts';
import type { SimulatedAgent } from './simulated-cluster.ts';

export interface ContenderOptions {
  name: string;
  /** PlaceOptions.maxCandidates: undefined = the default log2 N sample, Infinity = score every agent. */
  maxCandidates?: number;
  seed: number;
  /** Placements per store transaction. */
  batchSize: number;
}

export interface ContenderResult {
  name: string;
  tasks: number;
  placed: number;
  rejected: number;
  /** Placement loop: decisions, commits and store writes. */
  loopMs: number;
  /** The decisions alone (sum of place() times). */
  decideMs: number;
  storeMs: number;
  /** The queued records, inserted before the loop (submission; not in loopMs). */
  insertMs: number;
  latencyUs: { p50: number; p99: number; max: number };
  peakRssMiB: number;
  usedShare: { cpus: number; mem: number };
}

const NOW = '2026-11-24T12:00:00.000Z';

export async function runContender(agents: readonly SimulatedAgent[], tasks: readonly TaskSpec[], options: ContenderOptions): Promise<ContenderResult> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gantry-bench-placement-'));
  const store = await openStore({ dataDir });
  const { tasks: taskTable } = new ClusterStore(store.knex);
  try {
    const state = new ClusterState(
      options.maxCandidates === undefined ? { rng: seededRng(options.seed) } : { rng: seededRng(options.seed), maxCandidates: options.maxCandidates },
    );
    for (const a of agents) state.upsertAgent(a.id, a.hostname, a.attributes, a.total);
    const ids = tasks.map((_, i) => `t-${String(i).padStart(7, '0')}`);

    let started = performance.now();
    await taskTable.insertMany(tasks.map((spec, i) => newQueuedTask(spec, new Date(NOW), ids[i]!)));
    const insertMs = performance.now() - started;

    const latencies = new Float64Array(tasks.length);
    let placed = 0;
    let rejected = 0;
    let decideMs = 0;
    let storeMs = 0;
    let peakRss = process.memoryUsage.rss();
    started = performance.now();
    for (let from = 0; from < tasks.length; from += options.batchSize) {
      const staging: Staging[] = [];
      const waiting: Array<[string, string]> = [];
      const to = Math.min(tasks.length, from + options.batchSize);
      for (let i = from; i < to; i++) {
        const spec = tasks[i]!;
        const t0 = performance.now();
        const result = state.place(spec);
        const took = performance.now() - t0;
        latencies[i] = took * 1000;
        decideMs += took;
        if (result.ok) {
          state.commit(ids[i]!, result.agent.id, spec.group, result.allocation);
          staging.push({ id: ids[i]!, agentId: result.agent.id, allocation: result.allocation });
          placed++;
        } else {
          waiting.push([ids[i]!, result.reason]);
          rejected++;
        }
      }
      const s0 = performance.now();
      await taskTable.stageMany(staging, NOW);
      for (const [id, reason] of waiting) await taskTable.setWaitingReason(id, reason);
      storeMs += performance.now() - s0;
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
    }
    const loopMs = performance.now() - started;
    return {
      name: options.name,
      tasks: tasks.length,
      placed,
      rejected,
      loopMs,
      decideMs,
      storeMs,
      insertMs,
      latencyUs: percentiles(latencies),
      // The process's high-water mark (maxRSS is in KiB), which includes the store's memory.
      peakRssMiB: Math.max(peakRss, process.resourceUsage().maxRSS * 1024) / 1024 / 1024,
      usedShare: usedShare(state),
    };
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function percentiles(values: Float64Array): { p50: number; p99: number; max: number } {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0 };
}

function usedShare(state: ClusterState): { cpus: number; mem: number } {
  let total = { cpus: 0, mem: 0 };
  let free = { cpus: 0, mem: 0 };
  for (const a of state.agents()) {
    total = { cpus: total.cpus + (a.total.scalars.cpus ?? 0), mem: total.mem + (a.total.scalars.mem ?? 0) };
    free = { cpus: free.cpus + (a.free.scalars.cpus ?? 0), mem: free.mem + (a.free.scalars.mem ?? 0) };
  }
  return { cpus: 1 - free.cpus / total.cpus, mem: 1 - free.mem / total.mem };
}
