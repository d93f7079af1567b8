// group-spread: a soft preference for agents running fewer tasks of the task's group, so that an app's
// instances spread over agents (a lost agent takes few of them) while a rolling upgrade's extra
// instance can still land beside one when nowhere else fits, which the hard UNIQUE filter forbids.
// Nomad's job anti-affinity (rank.go JobAntiAffinityIterator) is the same idea.
import type { Ranker } from '../types.ts';

export const groupSpreadRanker: Ranker = {
  name: 'group-spread',
  score(agent, spec, ctx) {
    // 1 on an agent without the group, 1/2 beside one instance, 1/3 beside two...
    return 1 / (1 + ctx.groups.onAgent(spec.group, agent.id));
  },
};
