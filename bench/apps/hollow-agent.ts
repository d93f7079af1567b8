// A hollow agent (after Kubernetes' kubemark "hollow nodes"): it speaks the agent protocol over HTTP
// exactly as `gantry agent` does (register with the join token, long-poll orders listing the tasks it
// holds, report status and probe verdicts) but runs nothing: a launch is reported running at once and,
// when the task has a health probe, healthy; a kill is reported killed. The master cannot tell it from a
// real agent, so its store, its in-memory views and the apps' instances are what they would be with
// real processes, without 10,000 processes and their output tails on a 2-core machine. What it leaves
// out is the agent's own work (forking, cgroups, probing, tailing output), which part 2 measures with
// real processes.
import type { Answer } from './gantry.ts';

interface LaunchOrder { type: 'launch'; taskId: string; spec: { health?: unknown } }
interface KillOrder { type: 'kill'; taskId: string }
type Order = LaunchOrder | KillOrder | { type: 'drain' };

export interface HollowAgentOptions {
  url: string;
  joinToken: string;
  hostname: string;
  cpus: number;
  memMiB: number;
  ports: [number, number];
  /** Reports in flight at once. */
  concurrency?: number;
}

export class HollowAgent {
  private agentId = '';
  private token = '';
  private pollWaitMs = 10_000;
  private readonly running = new Set<string>();
  private readonly abort = new AbortController();
  private readonly queue: Array<() => Promise<void>> = [];
  private inFlight = 0;
  private loop: Promise<void> = Promise.resolve();
  /** Failures of reports or polls (retried; counted to show they happened). */
  errors = 0;
  lastError = '';

  constructor(private readonly o: HollowAgentOptions) {}

  get taskCount(): number {
    return this.running.size;
  }

  async start(): Promise<void> {
    const answer = await this.post<{ agentId: string; agentToken: string; pollWaitMs: number }>('/api/v1/agent/register', this.o.joinToken, {
      hostname: this.o.hostname,
      resources: { scalars: { cpus: this.o.cpus, mem: this.o.memMiB, disk: 0 }, ranges: { ports: [this.o.ports] }, sets: {} },
      attributes: { hollow: { kind: 'text', value: 'true' } },
      drivers: ['exec'],
      taskUsers: ['gantry-task'],
      runningTaskIds: [],
    });
    if (answer.status !== 200) throw new Error(`hollow agent ${this.o.hostname}: register answered ${answer.status} ${JSON.stringify(answer.body)}`);
    this.agentId = answer.body.agentId;
    this.token = answer.body.agentToken;
    this.pollWaitMs = Math.min(answer.body.pollWaitMs, 20_000);
    this.loop = this.pollLoop();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop.catch(() => undefined);
  }

  private async pollLoop(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        const answer = await this.post<{ orders: Order[] }>(`/api/v1/agent/${this.agentId}/poll`, this.token, { runningTaskIds: [...this.running], waitMs: this.pollWaitMs }, this.abort.signal);
        if (answer.status !== 200) throw new Error(`poll answered ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
        for (const order of answer.body.orders) this.take(order);
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.errors++;
        this.lastError = (err as Error).message;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private take(order: Order): void {
    if (order.type === 'launch') {
      if (this.running.has(order.taskId)) return;
      this.running.add(order.taskId);
      const probed = order.spec.health !== undefined;
      this.report(async () => {
        await this.send('status', { taskId: order.taskId, state: 'running' });
        if (probed) await this.send('probe', { taskId: order.taskId, health: 'healthy', message: 'health probe passed' });
      });
    } else if (order.type === 'kill') {
      if (!this.running.delete(order.taskId)) return;
      this.report(() => this.send('status', { taskId: order.taskId, state: 'killed', exitCode: null, reason: 'killed' }));
    }
  }

  private report(work: () => Promise<void>): void {
    this.queue.push(work);
    this.drain();
  }

  private drain(): void {
    const limit = this.o.concurrency ?? 4;
    while (this.inFlight < limit && this.queue.length > 0) {
      const work = this.queue.shift()!;
      this.inFlight++;
      void work()
        .catch((err: Error) => {
          this.errors++;
          this.lastError = err.message;
        })
        .finally(() => {
          this.inFlight--;
          this.drain();
        });
    }
  }

  /** One report, retried (up to 10 times) as the real agent's reporter retries until delivered. */
  private async send(kind: 'status' | 'probe', body: unknown): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const answer = await this.post(`/api/v1/agent/${this.agentId}/${kind}`, this.token, body);
      if (answer.status === 204) return;
      if (attempt >= 10) throw new Error(`${kind} answered ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }

  private async post<T = unknown>(route: string, token: string, body: unknown, signal?: AbortSignal): Promise<Answer<T>> {
    const started = performance.now();
    const response = await fetch(this.o.url + route, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      ...(signal ? { signal } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as T, ms: performance.now() - started, bytes: text.length };
  }
}
