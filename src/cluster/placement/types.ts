// The placement vocabulary: what a filter, a ranker and the placement context are, and what
// placeTask answers. Kept apart from cluster/types.ts because only placement needs it.
import type { AgentView, Allocation, RankerName, TaskSpec } from '../types.ts';

/** Why one agent cannot take a task. */
export interface Rejection {
  /** Groups agents in the waiting reason: `lacked mem`, `lacked port 8080`, `failed hostname:UNIQUE`. */
  key: string;
  /** For a shortfall, what the task needs and what this agent has free: shown as `(need 512, max free 256)`. */
  need?: number;
  free?: number;
}

/** Active tasks counted by constraint group (TaskSpec.group), as the counting operators need them. */
export interface GroupCounts {
  /** Number of active tasks of the group. */
  size(group: string): number;
  /**
   * Active tasks of the group per value of `field` (`hostname` or an attribute, as attributeText) on
   * the agents they run on. Tasks on agents without the field are not in the map.
   */
  countsBy(group: string, field: string): ReadonlyMap<string, number>;
  /** Active tasks of the group on one agent. */
  onAgent(group: string, agentId: string): number;
}

/** What filters and rankers may read besides the agent and the task. Time and randomness come in here. */
export interface PlacementContext {
  /** Uniform in [0, 1); seeded in tests and benchmarks. */
  rng: () => number;
  groups: GroupCounts;
  /** How many different values of `field` the agents of the pool have (GROUP_BY's default count). */
  distinctValues(field: string): number;
  /**
   * Whether the agent reported holding the image (a canonical name, image-reference.ts): among agents
   * that score the same, one holding a task's image wins (no pull). Optional: no agent holds any.
   */
  holdsImage?(agentId: string, image: string): boolean;
}

/** A feasibility check, like Nomad's FeasibilityChecker. */
export interface Filter {
  readonly name: string;
  /** False when the task asks nothing of this filter: it is then skipped for every agent. */
  appliesTo(spec: TaskSpec): boolean;
  check(agent: AgentView, spec: TaskSpec, ctx: PlacementContext): true | Rejection;
}

/** Scores a feasible agent for a task, 0 (worst) to 1 (best). */
export interface Ranker {
  readonly name: string;
  score(agent: AgentView, spec: TaskSpec, ctx: PlacementContext): number;
}

export interface WeightedRanker {
  ranker: Ranker;
  weight: number;
}

export interface PlaceOptions {
  /** Strategy for tasks that do not name one (TaskSpec.strategy wins). Default binpack. */
  strategy?: RankerName;
  /** Rankers and weights to use instead of the strategy's single ranker. */
  rankers?: readonly WeightedRanker[];
  /**
   * How many feasible agents to score before choosing. Default max(2, ceil(log2 N)), as Nomad's
   * service scheduler; Infinity scores every feasible agent (the classic full scan).
   */
  maxCandidates?: number;
  /**
   * Free cpus and mem of each candidate, by the same index as `candidates` (ClusterState keeps them):
   * the search then checks cpus and mem from these two arrays instead of reading each agent's objects,
   * which at thousands of agents is most of the cost (memory latency, not arithmetic).
   */
  freeColumns?: FreeColumns;
}

export interface FreeColumns {
  cpus: Float64Array;
  mem: Float64Array;
}

/** Agents that failed for the same reason, as shown in a waiting reason. */
export interface RejectionCount {
  key: string;
  count: number;
  need?: number;
  /** The most any of these agents had free. */
  maxFree?: number;
}

export type PlaceResult =
  | { ok: true; agent: AgentView; allocation: Allocation; score: number }
  | { ok: false; reason: string; rejections: RejectionCount[] };
