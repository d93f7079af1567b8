// What the agent tells its master besides polling: its tasks' status changes (retried until the master
// has them), a sample of what its running tasks use every usage interval (usage-sampler.ts), and after
// each garbage collection round its disk use and the images its engines hold. Kept apart from the
// agent's own loop so that each report says once how it is retried and when it is given up.
import type { Logger } from 'pino';
import { sharedLauncher } from '../../shared/launcher/launcher.ts';
import type { Driver, TaskHandle } from '../drivers/driver.ts';
import { canonicalImageName } from '../image-reference.ts';
import type { MasterLink, StatusReport } from '../protocol.ts';
import { retryDelayMs, sleep } from './master-retry.ts';
import { DEFAULT_USAGE_INTERVAL_MS, sampleUsage } from './usage-sampler.ts';
import { sandboxRoot } from './work-dir.ts';

export interface AgentReporterOptions {
  link: MasterLink;
  drivers: Driver[];
  workDir: string;
  logger: Logger;
  /** Known once the agent registered. */
  agentId: () => string | undefined;
  /** The agent is stopping or draining: reports give up sooner, and the periodic ones are not sent. */
  isStopping: () => boolean;
  /** The runs going on now (a task waiting between two runs has no process to sample). */
  runningHandles: () => TaskHandle[];
  /** How often the running tasks' CPU and memory are sampled; default 10 s. */
  usageIntervalMs?: number;
}

export class AgentReporter {
  private usageTimer: NodeJS.Timeout | undefined;
  /** The images last reported to the master (Driver.images), and the report under way. */
  private reportedImages: ReadonlySet<string> = new Set();
  private reportingImages: Promise<void> = Promise.resolve();

  constructor(private readonly options: AgentReporterOptions) {}

  /** Reports a task's status until the master has it; given up when the master no longer knows the task, or after 3 more tries once the agent stops. */
  async status(report: StatusReport): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.options.link.reportStatus(this.options.agentId()!, report);
        return;
      } catch (err) {
        const status = (err as { status?: number }).status;
        if (status === 404 || (this.options.isStopping() && attempt >= 3)) return; // the master no longer knows the task
        await sleep(retryDelayMs(attempt));
      }
    }
  }

  startSamplingUsage(): void {
    this.usageTimer = setInterval(() => void this.reportUsage(), this.options.usageIntervalMs ?? DEFAULT_USAGE_INTERVAL_MS);
    this.usageTimer.unref();
  }

  stopSamplingUsage(): void {
    clearInterval(this.usageTimer);
  }

  /** Sends what the running tasks use now. */
  private async reportUsage(): Promise<void> {
    const running = this.options.runningHandles();
    const agentId = this.options.agentId();
    if (running.length === 0 || this.options.isStopping() || !agentId) return;
    const report = await sampleUsage(running);
    if (report.tasks.length === 0 || this.options.isStopping()) return;
    await this.options.link.reportUsage(agentId, report).catch((err: Error) => this.options.logger.debug({ err: err.message }, 'usage not reported'));
  }

  /** A task with this image started: its pull may have brought a new one, which placement should know at once, not at the next GC round. */
  imageUsed(image: string): void {
    if (!this.reportedImages.has(canonicalImageName(image))) void this.images();
  }

  /** Tells the master which images the engines hold, when that changed (one report at a time). */
  images(): Promise<void> {
    this.reportingImages = this.reportingImages.then(async () => {
      const names: string[] = [];
      for (const driver of this.options.drivers) names.push(...((await driver.images?.()) ?? []));
      const now = new Set(names);
      const agentId = this.options.agentId();
      if (this.options.isStopping() || !agentId || (now.size === this.reportedImages.size && names.every((n) => this.reportedImages.has(n)))) return;
      await this.options.link.reportImages(agentId, [...now]);
      this.reportedImages = now;
    }).catch((err: Error) => this.options.logger.warn({ err: err.message }, 'images not reported'));
    return this.reportingImages;
  }

  /** Measures the sandboxes (`du`, in the launcher helper) and the drivers' own use, and tells the master. */
  async diskUsage(): Promise<void> {
    const sandboxes = sandboxRoot(this.options.workDir);
    const du = await sharedLauncher().run(['du', '-sb', sandboxes], { timeoutMs: 60_000 });
    const sandboxesBytes = Number(/^(\d+)/.exec(du.stdout.toString())?.[1]);
    if (!Number.isFinite(sandboxesBytes)) throw new Error(`du -sb ${sandboxes}: ${du.stderr.toString().trim() || `exit ${du.exitCode}`}`);
    let containersBytes: number | null = null;
    for (const driver of this.options.drivers) {
      const bytes = await driver.diskUsage?.(sandboxes);
      if (bytes !== undefined) containersBytes = (containersBytes ?? 0) + bytes;
    }
    const agentId = this.options.agentId();
    if (this.options.isStopping() || !agentId) return;
    await this.options.link.reportDiskUsage(agentId, { sandboxesBytes, containersBytes, measuredAt: new Date().toISOString() });
  }
}
