// Part 1: requests per second and p99 with wrk on loopback, through each load balancer to the same two
// backends, and to one backend directly (the limit: no proxy in between). Targets, each measured alone,
// in the same order every round (rounds interleave the targets, so that what else runs on the shared
// machine at one moment does not land on one target alone; each figure is the median over the rounds):
//   direct           wrk → one backend
//   builtin http/tcp the built-in proxy (BuiltinDataPlane in its own process), one listener per mode
//   managed http/tcp Gantry-managed HAProxy (HaproxyDataPlane, same model)
//   hand http/tcp    a hand-written minimal haproxy.cfg, HAProxy started by the bench
// The first round starts each target with a short warm-up (discarded: the proxy's JIT, HAProxy's pools).
// HAProxy 2.6 runs one thread per CPU (2 here) in both HAProxy setups; the built-in proxy is one node
// event loop. wrk, the proxy and the backends share the machine's cores, so beside req/s each run says
// how many cores the proxy and the backends used and how busy the machine was, and the proxy's CPU
// time per request: the efficiency figure that does not depend on who else got the cores.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../shared/ports.ts';
import { summarize } from '../shared/stats.ts';
import { PlainHaproxy, handWrittenConfig } from './haproxy-peer.ts';
import { listenerOf, modelOf } from './models.ts';
import { startPlane, type Backend } from './processes.ts';
import { cpuWindow, type CpuWindow } from './cpu.ts';
import { wrk, type WrkResult } from './tools.ts';

export interface ThroughputOptions {
  backends: readonly Backend[];
  seconds: number;
  warmupSeconds: number;
  connections: number;
  rounds: number;
  tcp: boolean;
  log: (line: string) => void;
}

export interface TargetResult {
  target: string;
  runs: Array<WrkResult & { cpu: CpuWindow }>;
  /** Medians over the rounds. */
  rps: number;
  p50: number;
  p99: number;
  /** Cores the proxy (or, direct, nothing) and the backends used; the machine's busy share. */
  proxyCores: number;
  backendCores: number;
  machineBusy: number;
  /** The proxy's CPU time per request, µs (NaN for direct). */
  proxyUsPerRequest: number;
  errors: number;
}

export async function runThroughput(options: ThroughputOptions): Promise<TargetResult[]> {
  const [a, b] = options.backends;
  if (a === undefined || b === undefined) throw new Error('the throughput part needs two backends');
  const servers = [a, b].map((backend) => ({ name: backend.name, port: backend.port }));
  const modes: Array<'http' | 'tcp'> = options.tcp ? ['http', 'tcp'] : ['http'];
  const ports = { builtin: new Map<string, number>(), managed: new Map<string, number>(), hand: new Map<string, number>() };
  for (const mode of modes) for (const map of Object.values(ports)) map.set(mode, await freePort());

  const workDir = mkdtempSync(path.join(os.tmpdir(), 'gantry-bench-lb-'));
  const builtin = await startPlane('builtin');
  const managed = await startPlane('haproxy', path.join(workDir, 'managed'));
  const hand: PlainHaproxy[] = [];
  try {
    const model = (which: Map<string, number>) => modelOf(1, modes.map((mode) => listenerOf(which.get(mode)!, mode, servers)));
    await builtin.apply(model(ports.builtin));
    await managed.apply(model(ports.managed));
    for (const mode of modes) {
      const port = ports.hand.get(mode)!;
      const peer = new PlainHaproxy(path.join(workDir, `hand-${mode}.cfg`), port);
      await peer.start(handWrittenConfig(port, servers, mode));
      hand.push(peer);
    }

    const managedPid = (await managed.status()).workerPid ?? NaN;
    const targets: Array<{ target: string; port: number; proxyPid: () => number | null }> = [{ target: 'direct (one backend)', port: a.port, proxyPid: () => null }];
    modes.forEach((mode, i) => {
      targets.push({ target: `builtin ${mode}`, port: ports.builtin.get(mode)!, proxyPid: () => builtin.pid });
      targets.push({ target: `managed HAProxy ${mode}`, port: ports.managed.get(mode)!, proxyPid: () => managedPid });
      targets.push({ target: `hand-written HAProxy ${mode}`, port: ports.hand.get(mode)!, proxyPid: () => hand[i]!.pid });
    });
    const runs = new Map<string, TargetResult['runs']>(targets.map((t) => [t.target, []]));
    for (let round = 1; round <= options.rounds; round++) {
      for (const { target, port, proxyPid } of targets) {
        const url = `http://127.0.0.1:${port}/`;
        if (round === 1 && options.warmupSeconds > 0) await wrk(url, { seconds: options.warmupSeconds, connections: options.connections });
        const pid = proxyPid();
        const window = cpuWindow({ proxy: pid === null ? [] : [pid], backends: [a.pid, b.pid] });
        const result = await wrk(url, { seconds: options.seconds, connections: options.connections });
        const cpu = window.end();
        runs.get(target)!.push({ ...result, cpu });
        const errors = result.socketErrors + result.non2xx;
        options.log(
          `  round ${round}: ${target.padEnd(26)} ${Math.round(result.rps).toLocaleString('en-US').padStart(7)} req/s  p50 ${result.p50.toFixed(2)} ms  p99 ${result.p99.toFixed(2)} ms` +
            `  proxy ${cpu.cores.proxy!.toFixed(2)} cores, backends ${cpu.cores.backends!.toFixed(2)}, machine ${(cpu.machineBusy * 100).toFixed(0)}% busy${errors > 0 ? `  errors ${errors}` : ''}`,
        );
      }
    }
    return targets.map(({ target, proxyPid }) => {
      const list = runs.get(target)!;
      const median = (pick: (r: TargetResult['runs'][number]) => number): number => summarize(list.map(pick)).p50;
      return {
        target,
        runs: list,
        rps: median((r) => r.rps),
        p50: median((r) => r.p50),
        p99: median((r) => r.p99),
        proxyCores: median((r) => r.cpu.cores.proxy!),
        backendCores: median((r) => r.cpu.cores.backends!),
        machineBusy: median((r) => r.cpu.machineBusy),
        proxyUsPerRequest: proxyPid() === null ? NaN : median((r) => (r.cpu.cores.proxy! / r.rps) * 1e6),
        errors: list.reduce((sum, r) => sum + r.socketErrors + r.non2xx, 0),
      };
    });
  } finally {
    await Promise.all([builtin.stop(), managed.stop(), ...hand.map((peer) => peer.stop())]);
    rmSync(workDir, { recursive: true, force: true });
  }
}
