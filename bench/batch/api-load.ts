// The API client that runs while the scheduler fires: one request at a time at a steady pace, cycling
// through create, read, update, runs and delete of jobs, plus the full listing of all jobs every
// LIST_EVERY seconds on the side. Jobs it updates are daily jobs that do not fire in the window (an
// update that keeps the schedule keeps the job's firing state anyway); runs are read from the frequent
// jobs, which have some.
import { call } from './gantry.ts';
import { summarize, type Summary } from './measure.ts';
import { dailyName, frequentName } from './workload.ts';

export type Operation = 'create' | 'get' | 'update' | 'runs' | 'delete' | 'list';
export const OPERATIONS: readonly Operation[] = ['create', 'get', 'update', 'runs', 'delete', 'list'];

export interface ApiLoadResult {
  byOperation: Map<Operation, Summary & { errors: number }>;
  /** Requests per second achieved (the listing included). */
  rate: number;
}

export interface ApiLoadOptions {
  url: string;
  /** Target requests per second of the create/get/update/runs/delete cycle. */
  rate: number;
  listEveryS: number;
  /** Daily jobs it may update (none of them fires in the window). */
  quietDaily: number[];
  frequent: number;
  /** A time of day (s) far from the window, for the jobs it creates. */
  createdSecond: number;
  /** The definition daily job i was posted with (an update keeps its schedule). */
  dailyDefinition(i: number): Record<string, unknown>;
}

export class ApiLoad {
  private running = false;
  private readonly latencies = new Map<Operation, number[]>(OPERATIONS.map((op) => [op, []]));
  private readonly errors = new Map<Operation, number>(OPERATIONS.map((op) => [op, 0]));
  private loops: Promise<void>[] = [];
  private startedAt = 0;
  private stoppedAt = 0;
  private serial = 0;
  private readonly firstError: string[] = [];

  constructor(private readonly opts: ApiLoadOptions) {}

  start(): void {
    this.running = true;
    this.startedAt = performance.now();
    this.loops = [this.cycleLoop(), this.listLoop()];
  }

  async stop(): Promise<ApiLoadResult> {
    this.running = false;
    await Promise.all(this.loops);
    this.stoppedAt = performance.now();
    const byOperation = new Map<Operation, Summary & { errors: number }>();
    let total = 0;
    for (const op of OPERATIONS) {
      const values = this.latencies.get(op)!;
      total += values.length;
      byOperation.set(op, { ...summarize(values), errors: this.errors.get(op)! });
    }
    if (this.firstError.length) console.log(`api client errors, first ones: ${this.firstError.join(' | ')}`);
    return { byOperation, rate: total / ((this.stoppedAt - this.startedAt) / 1000) };
  }

  private async request(op: Operation, method: string, route: string, body: unknown, okStatus: number[]): Promise<void> {
    try {
      const answer = await call(this.opts.url, method, route, body);
      this.latencies.get(op)!.push(answer.ms);
      if (!okStatus.includes(answer.status)) this.error(op, `${op} ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`);
    } catch (err) {
      this.error(op, `${op}: ${(err as Error).message}`);
    }
  }

  private error(op: Operation, text: string): void {
    this.errors.set(op, this.errors.get(op)! + 1);
    if (this.firstError.length < 3) this.firstError.push(text);
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(Math.random() * list.length)]!;
  }

  private async cycleLoop(): Promise<void> {
    const interval = 1000 / this.opts.rate;
    let next = performance.now();
    const h = Math.floor(this.opts.createdSecond / 3600);
    const m = Math.floor((this.opts.createdSecond % 3600) / 60);
    const at = `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:00`;
    const pace = async (): Promise<void> => {
      next = Math.max(next + interval, performance.now());
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    };
    while (this.running) {
      const name = `crud-${++this.serial}`;
      const day = new Date().toISOString().slice(0, 10);
      await this.request('create', 'POST', '/api/v1/jobs', { name, command: 'true', schedule: `R/${day}T${at}Z/P1D`, owner: 'bench@example.com' }, [201]);
      await pace();
      await this.request('get', 'GET', `/api/v1/jobs/${dailyName(this.pick(this.opts.quietDaily))}`, undefined, [200]);
      await pace();
      const updated = this.pick(this.opts.quietDaily);
      // Same schedule, new description: a real change (stored), the firing state kept.
      await this.request('update', 'POST', '/api/v1/jobs', { ...this.opts.dailyDefinition(updated), description: `updated ${this.serial}` }, [200]);
      await pace();
      await this.request('runs', 'GET', `/api/v1/jobs/${frequentName(Math.floor(Math.random() * this.opts.frequent))}/runs`, undefined, [200]);
      await pace();
      await this.request('delete', 'DELETE', `/api/v1/jobs/${name}`, undefined, [200]);
      await pace();
    }
  }

  private async listLoop(): Promise<void> {
    let next = performance.now() + (this.opts.listEveryS * 1000) / 2;
    while (this.running) {
      if (performance.now() >= next) {
        await this.request('list', 'GET', '/api/v1/jobs', undefined, [200]);
        next += this.opts.listEveryS * 1000;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
