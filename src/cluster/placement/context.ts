// Builds the PlacementContext for a fixed list of agents: what ClusterState provides for its pool, for
// callers (tests, tools) that run placeTask on agents of their own.
import type { AgentView } from '../types.ts';
import { fieldValue } from './field-value.ts';
import { GroupIndex } from './group-index.ts';
import type { GroupCounts, PlacementContext } from './types.ts';

/** Distinct values of a field over agents, computed once per field and kept until `clear()`. */
export class DistinctValueCache {
  private readonly cache = new Map<string, number>();

  constructor(private readonly agents: () => Iterable<AgentView>) {}

  count(field: string): number {
    let n = this.cache.get(field);
    if (n === undefined) {
      const values = new Set<string>();
      for (const agent of this.agents()) {
        const v = fieldValue(agent, field);
        if (v !== undefined) values.add(v);
      }
      this.cache.set(field, (n = values.size));
    }
    return n;
  }

  clear(): void {
    this.cache.clear();
  }
}

/**
 * A context over `agents`, with no task counted unless `groups` is given, and no image held unless
 * `images` (agent id → canonical image names) is given.
 */
export function placementContext(agents: readonly AgentView[], rng: () => number, groups?: GroupCounts, images?: ReadonlyMap<string, ReadonlySet<string>>): PlacementContext {
  const distinct = new DistinctValueCache(() => agents);
  return {
    rng,
    groups: groups ?? new GroupIndex(() => undefined),
    distinctValues: (field) => distinct.count(field),
    ...(images ? { holdsImage: (agentId: string, image: string) => images.get(agentId)?.has(image) === true } : {}),
  };
}
