// placeTask: a task's candidate agents flow through the filters, the feasible ones are scored by the
// rankers, and the best wins; or, when none is feasible, the answer says why for every agent.
// Modelled on Nomad's scheduler stack (feasible.go → rank.go → LimitIterator → MaxScoreIterator).
import { canonicalImageName } from '../image-reference.ts';
import { allocate, covers } from '../resources/arithmetic.ts';
import type { AgentView, Allocation, RankerName, TaskSpec } from '../types.ts';
import { clusterFilter } from './filters/cluster.ts';
import { customResourcesFilter } from './filters/custom-resources.ts';
import { groupByFilter } from './filters/group-by.ts';
import { isFilter } from './filters/is.ts';
import { withFilter, withoutFilter } from './filters/affinity.ts';
import { likeFilter } from './filters/like.ts';
import { maxPerFilter } from './filters/max-per.ts';
import { portsFilter } from './filters/ports.ts';
import { cpusFilter, diskFilter, gpusFilter, memFilter } from './filters/scalar-resource.ts';
import { taskUserFilter } from './filters/task-user.ts';
import { uniqueFilter } from './filters/unique.ts';
import { unlikeFilter } from './filters/unlike.ts';
import { binpackRanker } from './rankers/binpack.ts';
import { groupSpreadRanker } from './rankers/group-spread.ts';
import { randomRanker } from './rankers/random.ts';
import { spreadRanker } from './rankers/spread.ts';
import type { Filter, PlaceOptions, PlaceResult, PlacementContext, Ranker, WeightedRanker } from './types.ts';
import { RejectionTally, waitingReason } from './waiting-reason.ts';
import { visitOrder } from './visit-order.ts';

/**
 * Every filter, cheapest and most often decisive first: resources are number comparisons, constraints
 * read the group index. An agent is reported under the first filter it fails.
 * A new constraint operator is one file in filters/ and one line here.
 */
export const FILTERS: readonly Filter[] = [
  cpusFilter,
  memFilter,
  diskFilter,
  gpusFilter,
  portsFilter,
  customResourcesFilter,
  taskUserFilter,
  uniqueFilter,
  clusterFilter,
  groupByFilter,
  likeFilter,
  unlikeFilter,
  maxPerFilter,
  isFilter,
  withFilter,
  withoutFilter,
];

export const STRATEGIES: Readonly<Record<RankerName, Ranker>> = {
  binpack: binpackRanker,
  spread: spreadRanker,
  random: randomRanker,
};

/**
 * group-spread's weight beside the strategy's 1 (whose scores differ by at most 1): an agent with fewer
 * of the group wins over a better-packed one
 * (10 × (1/(1+n) − 1/(2+n)) is over 1 for n ≤ 1: until agents hold two of the group each).
 */
const GROUP_SPREAD_WEIGHT = 10;

/** Nomad's limit for service jobs: enough candidates for a good choice, log2 N of them, at least 2. */
export function defaultMaxCandidates(agentCount: number): number {
  return Math.max(2, Math.ceil(Math.log2(Math.max(1, agentCount))));
}

const ALLOCATION_FAILED = { key: 'lacked resources' };
const PIPELINE_ORDER = new Map(FILTERS.map((f, i) => [f, i]));

/** The cpus and mem filters' test, on the numbers from the columns. */
function coversNeed(free: number, need: number): boolean {
  return need <= 0 || free >= need || covers(free, need);
}

/**
 * Chooses an agent for the task among `candidates`, or explains why none fits. Pure: reads the agents
 * and the context, changes nothing (ClusterState.commit records the choice).
 *
 * Sampling: agents are visited in a random order (visit-order.ts) and the search stops once
 * `maxCandidates` feasible agents have been scored, as Nomad's LimitIterator does; the best of those
 * wins. None of binpack, spread or random needs every agent to choose well (scoring a log2 N sample
 * gets close to the best, and random needs only one), so all three sample; pass `maxCandidates:
 * Infinity` for the classic score-everything scan. Only a candidate that beats the best so far gets an
 * allocation computed. When no agent is feasible the search has visited all of them; only then does a
 * second pass count why each agent refused, so the reason covers every agent and the common,
 * successful case pays nothing for explanations.
 */
export function placeTask(
  spec: TaskSpec,
  candidates: readonly AgentView[],
  ctx: PlacementContext,
  options: PlaceOptions = {},
): PlaceResult {
  const n = candidates.length;
  if (n === 0) return { ok: false, reason: waitingReason(0, []), rejections: [] };
  const filters = FILTERS.filter((f) => f.appliesTo(spec));
  const strategy = { ranker: STRATEGIES[spec.strategy ?? options.strategy ?? 'binpack'], weight: 1 };
  // Spreading a group needs every agent's count (a sample of log2 N would often miss the empty ones),
  // and outweighs the strategy: binpack alone would stack the group's tasks together.
  const rankers = options.rankers ?? (spec.spreadGroup ? [strategy, { ranker: groupSpreadRanker, weight: GROUP_SPREAD_WEIGHT }] : [strategy]);
  const limit = spec.spreadGroup ? n : Math.max(1, options.maxCandidates ?? defaultMaxCandidates(n));
  const columns = options.freeColumns;
  // With the columns, cpus and mem are checked from them, and their filters are left out of the search
  // (they still explain a rejection): the agent's objects are touched only for what the task asks more.
  const searchFilters = columns ? filters.filter((f) => f !== cpusFilter && f !== memFilter) : filters;

  let best: { agent: AgentView; allocation: Allocation; score: number } | null = null;
  let feasible = 0;
  // A tie goes to an agent that holds the task's image (it starts without a pull).
  const image = spec.image !== undefined && ctx.holdsImage ? canonicalImageName(spec.image) : undefined;
  const beatsOnTie = (agent: AgentView, incumbent: AgentView): boolean =>
    image !== undefined && ctx.holdsImage!(agent.id, image) && !ctx.holdsImage!(incumbent.id, image);
  const { start, stride } = visitOrder(n, ctx.rng);
  let index = start;
  for (let visited = 0; visited < n; visited++) {
    const at = index;
    const agent = candidates[at]!;
    index += stride;
    if (index >= n) index -= n;
    if (columns && !(coversNeed(columns.cpus[at]!, spec.cpus) && coversNeed(columns.mem[at]!, spec.mem))) continue;
    if (!passesAll(searchFilters, agent, spec, ctx)) continue;
    const score = weightedScore(rankers, agent, spec, ctx);
    if (best && (score < best.score || (score === best.score && !beatsOnTie(agent, best.agent)))) {
      if (++feasible >= limit) break;
      continue;
    }
    // Only a new best is allocated (ports chosen). The allocation is authoritative: should it disagree
    // with the filters, the agent is skipped.
    const allocation = allocate(agent.free, spec);
    if (!allocation) continue;
    best = { agent, allocation, score };
    if (++feasible >= limit) break;
  }
  if (best) return { ok: true, ...best };
  const rejections = explainRejections(filters, candidates, spec, ctx).counts();
  return { ok: false, reason: waitingReason(n, rejections), rejections };
}

function passesAll(filters: readonly Filter[], agent: AgentView, spec: TaskSpec, ctx: PlacementContext): boolean {
  for (let i = 0; i < filters.length; i++) {
    if (filters[i]!.check(agent, spec, ctx) !== true) return false;
  }
  return true;
}

/** Why each agent refuses the task: the first filter it fails, in pipeline order. */
function explainRejections(filters: readonly Filter[], candidates: readonly AgentView[], spec: TaskSpec, ctx: PlacementContext): RejectionTally {
  const tally = new RejectionTally();
  next: for (const agent of candidates) {
    for (const filter of filters) {
      const result = filter.check(agent, spec, ctx);
      if (result !== true) {
        tally.add(result, PIPELINE_ORDER.get(filter) ?? FILTERS.length);
        continue next;
      }
    }
    if (!allocate(agent.free, spec)) tally.add(ALLOCATION_FAILED, FILTERS.length);
  }
  return tally;
}

function weightedScore(rankers: readonly WeightedRanker[], agent: AgentView, spec: TaskSpec, ctx: PlacementContext): number {
  if (rankers.length === 1) return rankers[0]!.ranker.score(agent, spec, ctx);
  let sum = 0;
  let weights = 0;
  for (const { ranker, weight } of rankers) {
    sum += weight * ranker.score(agent, spec, ctx);
    weights += weight;
  }
  return weights > 0 ? sum / weights : 0;
}
