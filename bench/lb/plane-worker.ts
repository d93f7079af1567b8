// A data plane as Gantry runs it, in a process of its own (its own event loop, as in `gantry server`):
// `builtin` is the built-in proxy (BuiltinDataPlane: the listeners are in this process), `haproxy` is the
// managed HAProxy (HaproxyDataPlane: this process is its controller, HAProxy its child). The bench sends
// models over IPC and asks for status; every answer carries the request's `seq`.
//
// Usage (the bench spawns it): node --import tsx bench/lb/plane-worker.ts builtin|haproxy [WORKDIR]
import { pino } from 'pino';
import type { LbDataPlane, LbModel } from '../../src/discovery/model.ts';

export type PlaneRequest = { seq: number } & ({ op: 'apply'; model: LbModel } | { op: 'status' } | { op: 'close' });

export interface PlaneAnswer {
  seq: number;
  ok: boolean;
  error?: string;
  /** apply: how long it took in this process. */
  ms?: number;
  /** status: servers up / draining / down, and (haproxy) the worker's pid: a new one means a reload. */
  servers?: { up: number; draining: number; down: number };
  healthy?: boolean;
  message?: string | null;
  workerPid?: number | null;
}

const kind = process.argv[2];
const workDir = process.argv[3];
const logger = pino({ level: process.env.LB_BENCH_PLANE_LOG ?? 'warn' }, pino.destination(2));

async function makePlane(): Promise<LbDataPlane & { workerPid(): number | null }> {
  if (kind === 'builtin') {
    const { BuiltinDataPlane } = await import('../../src/discovery/proxy/index.ts');
    const plane = new BuiltinDataPlane({ bindHost: '127.0.0.1', logger });
    return Object.assign(plane, { workerPid: () => process.pid });
  }
  if (kind === 'haproxy') {
    if (workDir === undefined) throw new Error('the haproxy plane needs a work directory');
    const { HaproxyDataPlane } = await import('../../src/discovery/haproxy/index.ts');
    const plane = new HaproxyDataPlane({ workDir, binary: process.env.LB_BENCH_HAPROXY ?? '/usr/sbin/haproxy', bindHost: '127.0.0.1', logger, stopTimeoutMs: 2000 });
    return Object.assign(plane, { workerPid: () => plane.process.workerPid() });
  }
  throw new Error(`unknown data plane "${kind}": builtin or haproxy`);
}

const plane = await makePlane();
const reply = (answer: PlaneAnswer): void => void process.send!(answer);

process.on('message', (request: PlaneRequest) => {
  void (async () => {
    try {
      if (request.op === 'apply') {
        const started = performance.now();
        await plane.apply(request.model);
        reply({ seq: request.seq, ok: true, ms: performance.now() - started });
      } else if (request.op === 'status') {
        const status = await plane.status();
        const count = (state: string): number => status.servers.filter((s) => s.state === state).length;
        reply({ seq: request.seq, ok: true, healthy: status.healthy, message: status.message, servers: { up: count('up'), draining: count('draining'), down: count('down') }, workerPid: plane.workerPid() });
      } else {
        await plane.close();
        reply({ seq: request.seq, ok: true });
        process.exit(0);
      }
    } catch (err) {
      reply({ seq: request.seq, ok: false, error: (err as Error).message });
    }
  })();
});
// The bench went away: HAProxy must not outlive it.
process.on('disconnect', () => void plane.close().finally(() => process.exit(0)));
reply({ seq: 0, ok: true });
