// binpack (default): prefer the agent that would be fullest after placement, leaving whole agents free
// for big tasks. Nomad's score 20 − (10^freeCpu% + 10^freeMem%), clamped to [0, 18], over 18.
import type { Ranker } from '../types.ts';
import { fitTotalAfter } from './free-after-placement.ts';

export const binpackRanker: Ranker = {
  name: 'binpack',
  score(agent, spec) {
    const score = 20 - fitTotalAfter(agent, spec);
    return Math.min(18, Math.max(0, score)) / 18;
  },
};
