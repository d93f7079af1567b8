// A remote agent's link to its master over the platform API (/api/v1/agent/...). It joins with the
// join token and then uses the agent token the master hands out at registration.
import type { MasterLink, OutputBatch, ProbeReport, Registration, RegistrationResult, StatusReport, Order, UsageReport } from '../protocol.ts';
import type { DiskUsage } from '../types.ts';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class HttpMasterLink implements MasterLink {
  private agentToken: string | undefined;
  private readonly abort = new AbortController();

  constructor(
    private readonly masterUrl: string,
    private readonly joinToken: string,
  ) {}

  async register(registration: Registration): Promise<RegistrationResult> {
    const result = await this.call<RegistrationResult>('POST', '/api/v1/agent/register', this.joinToken, registration);
    this.agentToken = result.agentToken;
    return result;
  }

  async pollOrders(agentId: string, runningTaskIds: string[], waitMs: number, killingTaskIds: string[] = []): Promise<Order[]> {
    const body = { runningTaskIds, waitMs, killingTaskIds };
    const { orders } = await this.call<{ orders: Order[] }>('POST', `/api/v1/agent/${agentId}/poll`, this.token(), body, waitMs + 10_000, this.abort.signal);
    return orders;
  }

  async reportStatus(agentId: string, report: StatusReport): Promise<void> {
    await this.call('POST', `/api/v1/agent/${agentId}/status`, this.token(), report);
  }

  async sendOutput(agentId: string, batch: OutputBatch): Promise<void> {
    const body = {
      taskId: batch.taskId,
      from: batch.from,
      chunks: batch.chunks.map((c) => ({ stream: c.stream, data: c.data.toString('base64'), ...(c.at !== undefined && { at: c.at }) })),
    };
    await this.call('POST', `/api/v1/agent/${agentId}/output`, this.token(), body);
  }

  async reportDiskUsage(agentId: string, usage: DiskUsage): Promise<void> {
    await this.call('POST', `/api/v1/agent/${agentId}/disk-usage`, this.token(), usage);
  }

  async reportImages(agentId: string, images: string[]): Promise<void> {
    await this.call('POST', `/api/v1/agent/${agentId}/images`, this.token(), { images });
  }

  async reportProbe(agentId: string, report: ProbeReport): Promise<void> {
    await this.call('POST', `/api/v1/agent/${agentId}/probe`, this.token(), report);
  }

  async reportUsage(agentId: string, report: UsageReport): Promise<void> {
    await this.call('POST', `/api/v1/agent/${agentId}/usage`, this.token(), report);
  }

  async announceDrain(agentId: string): Promise<void> {
    // Short: an agent stopping does not wait long on a master that does not answer.
    await this.call('POST', `/api/v1/agent/${agentId}/drain`, this.token(), {}, 5000);
  }

  close(): void {
    this.abort.abort();
  }

  private token(): string {
    if (!this.agentToken) throw new Error('the agent has not registered yet');
    return this.agentToken;
  }

  private async call<T>(method: string, route: string, token: string, body: unknown, timeoutMs = 30_000, cancel?: AbortSignal): Promise<T> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = cancel ? AbortSignal.any([cancel, timeout]) : timeout;
    const response = await fetch(new URL(route, this.masterUrl), {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal,
    });
    const text = await response.text();
    const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!response.ok) {
      throw new HttpError(response.status, String(json.error ?? 'error'), String(json.message ?? response.statusText));
    }
    return json as T;
  }
}
