// Part 2: errors while the backend set changes 100 times a minute under a steady load. Four backends
// take turns: at change k the servers are b[k], b[k+1] (up) and b[k-1] (draining, the instance asked to
// stop); b[k+2] (the one that finished draining at change k) is removed from the model and then stops
// (as its process would after the drain delay: no new connections, idle ones closed, the rest cut 1 s
// later); b[k+1] was started again just before the change that adds it (a new instance, healthy before
// the load balancer hears of it). Indices mod 4. So each change adds a server, drains one and removes
// one. Setups, each on its own port with the same load and the same schedule:
//   builtin    BuiltinDataPlane.apply(model) in its own process
//   managed    HaproxyDataPlane.apply(model): server slots changed through HAProxy's runtime API
//   restart    the hand-written configuration regenerated (up servers only, as marathon-lb did) and
//              HAProxy stopped and started again on each change
//   reload-sf  (optional) the same, reloaded as marathon-lb did: `haproxy -sf OLDPID`
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../shared/ports.ts';
import { summarize } from '../shared/stats.ts';
import { PlainHaproxy, handWrittenConfig } from './haproxy-peer.ts';
import { steadyLoad } from './load.ts';
import { listenerOf, modelOf, type ModelServer } from './models.ts';
import { startPlane, type Backend } from './processes.ts';

export const CHURN_SETUPS = ['builtin', 'managed', 'restart', 'reload-sf'] as const;
export type ChurnSetup = (typeof CHURN_SETUPS)[number];

export interface ChurnOptions {
  backends: readonly Backend[];
  setups: readonly ChurnSetup[];
  seconds: number;
  changesPerMinute: number;
  clients: number;
  log: (line: string) => void;
}

export interface ChurnResult {
  setup: ChurnSetup;
  changes: number;
  requests: number;
  errors: number;
  /** Changes after which at least one request failed (before the next change). */
  changesWithErrors: number;
  /** Error kinds with their counts: `ECONNREFUSED 12, ECONNRESET 3`. */
  kinds: string;
  /** How long applying a change took (the apply() call; for the peers, the restart until it listens). */
  applyP50: number;
  applyMax: number;
  /** HAProxy processes replaced (managed: reloads seen as a new worker; peers: restarts). */
  reloads: number;
  seconds: number;
  /** Answers per backend over the whole run (each took turns: all four serve when the changes took effect). */
  servedBy: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runChurn(options: ChurnOptions): Promise<ChurnResult[]> {
  if (options.backends.length < 4) throw new Error('the churn part needs four backends');
  const results: ChurnResult[] = [];
  for (const setup of options.setups) results.push(await churnOne(setup, options));
  return results;
}

async function churnOne(setup: ChurnSetup, options: ChurnOptions): Promise<ChurnResult> {
  const b = options.backends;
  const at = (i: number): Backend => b[((i % 4) + 4) % 4]!;
  const serversAt = (k: number): ModelServer[] => [
    { name: at(k).name, port: at(k).port },
    { name: at(k + 1).name, port: at(k + 1).port },
    ...(k > 0 ? [{ name: at(k - 1).name, port: at(k - 1).port, draining: true }] : []),
  ];
  // Every backend serving, then the ones not in the first model stopped, as the schedule has them.
  for (const backend of b) await backend.startServing();
  await at(2).stopServing();
  await at(3).stopServing();

  const port = await freePort();
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'gantry-bench-lb-churn-'));
  let apply: (k: number) => Promise<number>;
  let reloads: () => Promise<number>;
  let close: () => Promise<void>;
  if (setup === 'builtin' || setup === 'managed') {
    const plane = await startPlane(setup === 'builtin' ? 'builtin' : 'haproxy', path.join(workDir, 'managed'));
    const workers = new Set<number>();
    const noteWorker = async (): Promise<void> => {
      const pid = (await plane.status()).workerPid;
      if (pid !== null && pid !== undefined) workers.add(pid);
    };
    apply = async (k) => {
      const ms = await plane.apply(modelOf(k + 1, [listenerOf(port, 'http', serversAt(k))]));
      if (setup === 'managed') await noteWorker();
      return ms;
    };
    reloads = async () => (setup === 'managed' ? Math.max(0, workers.size - 1) : 0);
    close = () => plane.stop();
  } else {
    const peer = new PlainHaproxy(path.join(workDir, 'haproxy.cfg'), port);
    // marathon-lb wrote the tasks it was told were healthy: draining ones are simply absent.
    const config = (k: number) => handWrittenConfig(port, serversAt(k).filter((s) => s.draining !== true), 'http');
    let first = true;
    apply = async (k) => {
      const started = performance.now();
      if (first) await peer.start(config(k));
      else if (setup === 'restart') await peer.restart(config(k));
      else await peer.reloadSf(config(k));
      first = false;
      return performance.now() - started;
    };
    reloads = async () => peer.restarts;
    close = () => peer.stop();
  }

  try {
    await apply(0);
    const load = steadyLoad(port, options.clients);
    await sleep(1000);
    const warmup = { requests: load.result.requests, failures: load.result.failures.length };
    const changes = Math.round((options.changesPerMinute * options.seconds) / 60);
    const periodMs = 60_000 / options.changesPerMinute;
    const started = performance.now();
    const changeTimes: number[] = [];
    const applyMs: number[] = [];
    for (let k = 1; k <= changes; k++) {
      const due = started + (k - 1) * periodMs;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      changeTimes.push(performance.now());
      await at(k + 1).startServing();
      applyMs.push(await apply(k));
      await at(k + 2).stopServing();
    }
    // The last change's window: one period more under load.
    await sleep(periodMs);
    const result = await load.stop();
    const elapsed = (performance.now() - started) / 1000;
    const failures = result.failures.slice(warmup.failures);
    const windows = new Set<number>();
    for (const failure of failures) {
      let index = -1;
      for (let i = 0; i < changeTimes.length && changeTimes[i]! <= failure.at; i++) index = i;
      windows.add(index);
    }
    const kinds = new Map<string, number>();
    for (const failure of failures) kinds.set(failure.what, (kinds.get(failure.what) ?? 0) + 1);
    const applied = summarize(applyMs);
    const outcome: ChurnResult = {
      setup,
      changes,
      requests: result.requests - warmup.requests,
      errors: failures.length,
      changesWithErrors: [...windows].filter((i) => i >= 0).length,
      kinds: [...kinds].sort((x, y) => y[1] - x[1]).map(([what, n]) => `${what} ${n}`).join(', ') || 'none',
      applyP50: applied.p50,
      applyMax: applied.max,
      reloads: await reloads(),
      seconds: elapsed,
      servedBy: b.map((backend) => `${backend.name} ${result.servedBy.get(backend.name) ?? 0}`).join(', '),
    };
    if (warmup.failures > 0) options.log(`  note: ${warmup.failures} failures in the first second, before any change (not counted)`);
    options.log(`  ${setup.padEnd(9)} ${outcome.requests.toLocaleString('en-US')} requests, ${outcome.errors} errors (${outcome.kinds}), ${outcome.changesWithErrors}/${changes} changes with errors, apply p50 ${applied.p50.toFixed(1)} ms max ${applied.max.toFixed(1)} ms, ${outcome.reloads} HAProxy processes replaced; answers by backend: ${outcome.servedBy}`);
    return outcome;
  } finally {
    await close();
    rmSync(workDir, { recursive: true, force: true });
  }
}
