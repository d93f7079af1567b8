// A static check at submission: can any agent, even empty, ever hold this task? Requests beyond every
// agent's TOTAL are rejected at once (HTTP 422) rather than queued forever. Constraints are not checked
// here: the agent that satisfies them may simply not have joined yet.
import { allocate, covers, freeAmount, itemCount, STANDARD_SCALARS } from '../resources/arithmetic.ts';
import { formatNumber } from '../resources/format.ts';
import { countInRanges, rangesContain } from '../resources/ranges.ts';
import type { Resources, TaskSpec } from '../types.ts';

type Request = Pick<TaskSpec, 'cpus' | 'mem' | 'disk' | 'gpus' | 'ports' | 'resources'>;

/** Null when some agent's total holds the request, else why none does: `no agent has 64 cpus (largest: 2)`. */
export function fitsAnyAgentTotal(spec: Request, totals: readonly Resources[]): string | null {
  const largest = (amount: (r: Resources) => number): number => totals.reduce((max, r) => Math.max(max, amount(r)), 0);
  const asked: string[] = [];

  for (const name of STANDARD_SCALARS) {
    const need = spec[name];
    if (need <= 0) continue;
    asked.push(`${formatNumber(need)} ${name}`);
    const most = largest((r) => r.scalars[name] ?? 0);
    if (!covers(most, need)) return `no agent has ${formatNumber(need)} ${name} (largest: ${formatNumber(most)})`;
  }
  for (const port of spec.ports) {
    if (port !== 0 && !totals.some((r) => rangesContain(r.ranges.ports ?? [], port))) return `no agent offers port ${port}`;
  }
  if (spec.ports.length > 0) {
    asked.push(`${spec.ports.length} port${spec.ports.length === 1 ? '' : 's'}`);
    const most = largest((r) => countInRanges(r.ranges.ports ?? []));
    if (most < spec.ports.length) return `no agent has ${spec.ports.length} ports (largest: ${most})`;
  }
  for (const [name, amount] of Object.entries(spec.resources)) {
    if (amount <= 0) continue;
    asked.push(`${formatNumber(amount)} ${name}`);
    const offered = totals.filter((r) => name in r.scalars || name in r.ranges || name in r.sets);
    if (offered.length === 0) return `no agent offers ${name}`;
    const most = offered.reduce((max, r) => Math.max(max, freeAmount(r, name)), 0);
    const need = offered.some((r) => name in r.scalars) ? amount : itemCount(amount);
    if (!covers(most, need)) return `no agent has ${formatNumber(need)} ${name} (largest: ${formatNumber(most)})`;
  }
  // Each resource alone fits some agent; one agent must hold them all at once.
  if (asked.length > 1 && !totals.some((r) => allocate(r, spec) !== null)) {
    return `no agent has ${asked.slice(0, -1).join(', ')} and ${asked[asked.length - 1]} together`;
  }
  return null;
}
