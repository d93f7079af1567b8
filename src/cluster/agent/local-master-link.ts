// The embedded agent's link: the same messages as over HTTP, handed to the master in-process.
import type { Master } from '../master/master.ts';
import type { MasterLink, OutputBatch, ProbeReport, Registration, RegistrationResult, RegistryAccess, StatusReport, Order, UsageReport } from '../protocol.ts';
import type { DiskUsage } from '../types.ts';

export class LocalMasterLink implements MasterLink {
  private readonly abort = new AbortController();

  constructor(
    private readonly master: Master,
    /** The bundled registry's access for agents, as the HTTP registration route adds it. */
    private readonly registryAccess: () => RegistryAccess | undefined = () => undefined,
  ) {}

  async register(registration: Registration): Promise<RegistrationResult> {
    const result = await this.master.register(registration, true);
    const registry = this.registryAccess();
    return registry ? { ...result, registry } : result;
  }

  pollOrders(agentId: string, runningTaskIds: string[], waitMs: number, killingTaskIds: string[] = []): Promise<Order[]> {
    return this.master.pollOrders(agentId, runningTaskIds, waitMs, this.abort.signal, killingTaskIds);
  }

  reportStatus(agentId: string, report: StatusReport): Promise<void> {
    return this.master.reportStatus(agentId, report);
  }

  sendOutput(agentId: string, batch: OutputBatch): Promise<void> {
    return this.master.appendOutput(agentId, batch);
  }

  reportDiskUsage(agentId: string, usage: DiskUsage): Promise<void> {
    return this.master.reportDiskUsage(agentId, usage);
  }

  reportImages(agentId: string, images: string[]): Promise<void> {
    return this.master.reportImages(agentId, images);
  }

  reportProbe(agentId: string, report: ProbeReport): Promise<void> {
    return this.master.reportProbe(agentId, report);
  }

  reportUsage(agentId: string, report: UsageReport): Promise<void> {
    return this.master.reportUsage(agentId, report);
  }

  async announceDrain(agentId: string): Promise<void> {
    await this.master.drainAgent(agentId);
  }

  /** Ends a pending poll at once (on shutdown). */
  close(): void {
    this.abort.abort();
  }
}
