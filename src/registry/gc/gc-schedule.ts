// Collections on a configured interval (`--registry-gc-interval`, default 24h; 0: never), each recorded
// like one asked for through the API, after the stored retention policies were applied. The first runs
// one interval after the server starts.
import type { Logger } from 'pino';
import type { Retention } from '../retention/retention.ts';
import type { GarbageCollector } from './collector.ts';
import type { GcRunStore } from './gc-runs.ts';

export interface GcSchedule {
  stop(): void;
}

export function scheduleGarbageCollection(
  gc: GarbageCollector,
  runs: GcRunStore,
  retention: Retention,
  options: { intervalMs: number; graceMs: number; logger: Logger },
): GcSchedule {
  if (options.intervalMs <= 0) return { stop: () => undefined };
  const timer = setInterval(() => {
    void applyPolicies(retention, options)
      .then(() => gc.collect({ dryRun: false, untagged: false, graceMs: options.graceMs }))
      .then(async (result) => {
        await runs.record(result, 'schedule');
        options.logger.info({ blobs: result.blobs.length, uploads: result.uploads.length, bytesFreed: result.bytesFreed }, 'registry garbage collected');
      })
      .catch((err: Error) => options.logger.error({ err: err.message }, 'registry garbage collection failed'));
  }, options.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** The stored retention policies, one after the other; one failing does not stop the others. */
async function applyPolicies(retention: Retention, options: { graceMs: number; logger: Logger }): Promise<void> {
  for (const policy of await retention.policies()) {
    try {
      const run = await retention.run(policy, { dryRun: false, graceMs: options.graceMs, trigger: 'schedule' });
      options.logger.info({ policy: policy.name, deleted: run.deleted.length, bytesFreed: run.bytesFreed }, 'retention policy applied');
    } catch (err) {
      options.logger.error({ policy: policy.name, err: (err as Error).message }, 'retention policy failed');
    }
  }
}
