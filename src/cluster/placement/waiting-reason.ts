// Tallies why agents refused a task and says it in one sentence a person can act on:
// `3 agents: 2 lacked mem (need 512, max free 256), 1 failed hostname:UNIQUE`.
import { formatNumber } from '../resources/format.ts';
import type { Rejection, RejectionCount } from './types.ts';

interface Entry extends RejectionCount {
  /** Position of the filter in the pipeline: ties in count are listed in pipeline order. */
  order: number;
}

export class RejectionTally {
  private readonly byKey = new Map<string, Entry>();

  add(rejection: Rejection, order: number): void {
    let entry = this.byKey.get(rejection.key);
    if (!entry) {
      entry = { key: rejection.key, count: 0, order };
      if (rejection.need !== undefined) entry.need = rejection.need;
      this.byKey.set(rejection.key, entry);
    }
    entry.count++;
    if (rejection.free !== undefined) entry.maxFree = Math.max(entry.maxFree ?? -Infinity, rejection.free);
  }

  /** Most common reason first. */
  counts(): RejectionCount[] {
    return [...this.byKey.values()]
      .sort((a, b) => b.count - a.count || a.order - b.order || a.key.localeCompare(b.key))
      .map(({ order: _order, ...count }) => count);
  }
}

export function waitingReason(agentCount: number, counts: readonly RejectionCount[]): string {
  if (agentCount === 0) return 'no agents registered';
  const parts = counts.map((c) => {
    const detail = c.need === undefined ? '' : ` (need ${formatNumber(c.need)}, max free ${formatNumber(c.maxFree ?? 0)})`;
    return `${c.count} ${c.key}${detail}`;
  });
  return `${agentCount} agent${agentCount === 1 ? '' : 's'}: ${parts.join(', ')}`;
}
