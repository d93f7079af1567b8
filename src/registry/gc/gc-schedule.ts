// Collections on a configured interval (`--registry-gc-interval`, default 24h; 0: never), each recorded
// like one asked for through the API. The first runs one interval after the server starts.
import type { Logger } from 'pino';
import type { GarbageCollector } from './collector.ts';
import type { GcRunStore } from './gc-runs.ts';

export interface GcSchedule {
  stop(): void;
}

export function scheduleGarbageCollection(gc: GarbageCollector, runs: GcRunStore, options: { intervalMs: number; graceMs: number; logger: Logger }): GcSchedule {
  if (options.intervalMs <= 0) return { stop: () => undefined };
  const timer = setInterval(() => {
    void gc
      .collect({ dryRun: false, untagged: false, graceMs: options.graceMs })
      .then(async (result) => {
        await runs.record(result, 'schedule');
        options.logger.info({ blobs: result.blobs.length, uploads: result.uploads.length, bytesFreed: result.bytesFreed }, 'registry garbage collected');
      })
      .catch((err: Error) => options.logger.error({ err: err.message }, 'registry garbage collection failed'));
  }, options.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
