// random: any feasible agent, from the context's rng (seeded in tests, so the choice is reproducible).
import type { Ranker } from '../types.ts';

export const randomRanker: Ranker = {
  name: 'random',
  score: (_agent, _spec, ctx) => ctx.rng(),
};
