// spread: the opposite of binpack, prefer the agent that would be emptiest after placement, so load and
// failures spread out. Nomad's ScoreFitSpread: (10^freeCpu% + 10^freeMem%) − 2, clamped to [0, 18], over 18.
import type { Ranker } from '../types.ts';
import { fitTotalAfter } from './free-after-placement.ts';

export const spreadRanker: Ranker = {
  name: 'spread',
  score(agent, spec) {
    const score = fitTotalAfter(agent, spec) - 2;
    return Math.min(18, Math.max(0, score)) / 18;
  },
};
