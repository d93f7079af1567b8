// Keeps a data plane in step with the catalog: each change derives the load balancer's model and
// applies it, one apply at a time; changes that come during an apply are folded into the next one
// (only the latest model matters). A failed apply is logged and kept for `gantry lb ls`; the next
// change tries again, and the data plane keeps serving what it had.
import type { Logger } from 'pino';
import { lbModelOf, type LbModelOptions } from './lb-model.ts';
import type { CatalogFeed, CatalogSnapshot, LbDataPlane, LbModel } from './model.ts';

export class LbApplier {
  private running: Promise<void> | undefined;
  private pending: CatalogSnapshot | undefined;
  private unsubscribe: (() => void) | undefined;
  /** The model last applied, and the last apply's error (null when it went through). */
  applied: LbModel | null = null;
  lastError: string | null = null;

  constructor(
    private readonly feed: CatalogFeed,
    readonly plane: LbDataPlane,
    private readonly options: LbModelOptions,
    private readonly logger: Logger,
  ) {}

  /** Applies the catalog as it is, then follows it. */
  async start(): Promise<void> {
    this.unsubscribe = this.feed.subscribe((snapshot) => this.schedule(snapshot));
    this.schedule(this.feed.snapshot());
    await this.idle();
  }

  /** Settles once every change so far is applied (or failed). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.pending = undefined;
    await this.idle();
  }

  private schedule(snapshot: CatalogSnapshot): void {
    this.pending = snapshot;
    if (this.running) return;
    this.running = this.drain().finally(() => (this.running = undefined));
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      const snapshot = this.pending;
      this.pending = undefined;
      const model = lbModelOf(snapshot, this.options);
      try {
        await this.plane.apply(model);
        this.applied = model;
        this.lastError = null;
      } catch (err) {
        this.lastError = (err as Error).message;
        this.logger.error({ err: this.lastError, version: model.version }, 'the load balancer did not take the catalog\'s change: it serves the last one it took');
      }
    }
  }
}
