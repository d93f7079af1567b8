// One sample of what the agent's running tasks use, all taken together, for the master's usage figures
// (master/usage-figures.ts turns two samples into a CPU rate). A task whose driver cannot tell, or
// that ends while it is read, is left out of this sample.
import type { TaskHandle } from '../drivers/driver.ts';
import type { UsageReport } from '../protocol.ts';

export const DEFAULT_USAGE_INTERVAL_MS = 10_000;

export async function sampleUsage(handles: Iterable<TaskHandle>, now: () => Date = () => new Date()): Promise<UsageReport> {
  const at = now().toISOString();
  const samples = await Promise.all(
    [...handles].map(async (handle) => {
      const usage = await handle.usage?.().catch(() => undefined);
      return usage ? { taskId: handle.taskId, cpuSeconds: usage.cpuSeconds, memBytes: Math.round(usage.memBytes) } : undefined;
    }),
  );
  return { at, tasks: samples.filter((s): s is NonNullable<typeof s> => s !== undefined) };
}
