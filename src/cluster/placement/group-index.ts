// Active tasks per constraint group, and per (group, field value), so the counting operators (UNIQUE,
// CLUSTER, GROUP_BY, MAX_PER) answer with a map lookup instead of scanning the tasks of the group.
// Counts by field are built the first time a constraint asks for that field, then kept up to date.
import type { GroupCounts } from './types.ts';

interface GroupEntry {
  size: number;
  /** agent id → active tasks of the group on it. */
  byAgent: Map<string, number>;
  /** field → value → active tasks of the group on agents with that value. */
  byField: Map<string, Map<string, number>>;
}

const NONE: ReadonlyMap<string, number> = new Map();

export class GroupIndex implements GroupCounts {
  private readonly groups = new Map<string, GroupEntry>();

  /** `valueOf` gives an agent's value of a field (hostname or attribute), also for agents that left. */
  constructor(private readonly valueOf: (agentId: string, field: string) => string | undefined) {}

  add(group: string, agentId: string): void {
    let entry = this.groups.get(group);
    if (!entry) {
      entry = { size: 0, byAgent: new Map(), byField: new Map() };
      this.groups.set(group, entry);
    }
    entry.size++;
    entry.byAgent.set(agentId, (entry.byAgent.get(agentId) ?? 0) + 1);
    for (const [field, counts] of entry.byField) bump(counts, this.valueOf(agentId, field), 1);
  }

  remove(group: string, agentId: string): void {
    const entry = this.groups.get(group);
    const onAgent = entry?.byAgent.get(agentId);
    if (!entry || !onAgent) return;
    if (--entry.size === 0) {
      this.groups.delete(group);
      return;
    }
    if (onAgent === 1) entry.byAgent.delete(agentId);
    else entry.byAgent.set(agentId, onAgent - 1);
    for (const [field, counts] of entry.byField) bump(counts, this.valueOf(agentId, field), -1);
  }

  size(group: string): number {
    return this.groups.get(group)?.size ?? 0;
  }

  onAgent(group: string, agentId: string): number {
    return this.groups.get(group)?.byAgent.get(agentId) ?? 0;
  }

  countsBy(group: string, field: string): ReadonlyMap<string, number> {
    const entry = this.groups.get(group);
    if (!entry) return NONE;
    let counts = entry.byField.get(field);
    if (!counts) {
      counts = new Map();
      for (const [agentId, n] of entry.byAgent) bump(counts, this.valueOf(agentId, field), n);
      entry.byField.set(field, counts);
    }
    return counts;
  }

  /** Call when an agent's hostname or attributes change: the counts by field are rebuilt on next use. */
  forgetFieldCounts(): void {
    for (const entry of this.groups.values()) entry.byField.clear();
  }
}

function bump(counts: Map<string, number>, value: string | undefined, delta: number): void {
  if (value === undefined) return;
  const n = (counts.get(value) ?? 0) + delta;
  if (n <= 0) counts.delete(value);
  else counts.set(value, n);
}
