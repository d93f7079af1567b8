// Small builders for placement tests: agents from Mesos strings, task specs with defaults, and a
// placement context with tasks already counted per group.
import { GroupIndex } from '../../../src/cluster/placement/group-index.ts';
import { fieldValue } from '../../../src/cluster/placement/field-value.ts';
import { placementContext } from '../../../src/cluster/placement/context.ts';
import { seededRng } from '../../../src/cluster/placement/seeded-rng.ts';
import type { PlacementContext } from '../../../src/cluster/placement/types.ts';
import { parseConstraint, parseAttributes, parseResources } from '../../../src/cluster/resources/parse.ts';
import type { AgentView, TaskSpec } from '../../../src/cluster/types.ts';
import { minimalSpec } from '../../helpers/task-spec.ts';

/** An agent with `total` resources, `free` (default: all of it), attributes, hostname = id unless given. */
export function agent(id: string, total: string, attributes = '', options: { free?: string; hostname?: string } = {}): AgentView {
  const parsedTotal = parseResources(total);
  return {
    id,
    hostname: options.hostname ?? id,
    attributes: parseAttributes(attributes),
    total: parsedTotal,
    free: options.free === undefined ? parseResources(total) : parseResources(options.free),
  };
}

/** A task spec asking for nothing but what `overrides` say (constraints as CLI strings). */
export function spec(overrides: Partial<Omit<TaskSpec, 'constraints'>> & { constraints?: string[] } = {}): TaskSpec {
  const { constraints = [], ...rest } = overrides;
  return minimalSpec({ group: 'g', cmd: 'true', constraints: constraints.map(parseConstraint), ...rest });
}

/** A context over `agents` where group `g` (or the group given) already has one task on each agent of `placed`. */
export function contextWith(agents: readonly AgentView[], placed: ReadonlyArray<string | [group: string, agentId: string]> = [], seed = 1): PlacementContext {
  const byId = new Map(agents.map((a) => [a.id, a]));
  const groups = new GroupIndex((agentId, field) => {
    const a = byId.get(agentId);
    return a ? fieldValue(a, field) : undefined;
  });
  for (const p of placed) {
    const [group, agentId] = typeof p === 'string' ? ['g', p] : p;
    groups.add(group, agentId);
  }
  return placementContext(agents, seededRng(seed), groups);
}
