// The placement surface the master (and the benchmark) use.
export { ClusterState, type ClusterStateOptions } from './cluster-state.ts';
export { placeTask, defaultMaxCandidates, FILTERS, STRATEGIES } from './pipeline.ts';
export { fitsAnyAgentTotal } from './fits-any-agent.ts';
export { GroupIndex } from './group-index.ts';
export { placementContext } from './context.ts';
export { fieldValue } from './field-value.ts';
export { waitingReason } from './waiting-reason.ts';
export { seededRng } from './seeded-rng.ts';
export type {
  Filter,
  GroupCounts,
  PlaceOptions,
  PlaceResult,
  PlacementContext,
  Ranker,
  Rejection,
  RejectionCount,
  WeightedRanker,
} from './types.ts';
