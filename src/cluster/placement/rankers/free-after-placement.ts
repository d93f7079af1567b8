// The share of an agent's cpus and mem that would still be free once the task is placed: what Nomad's
// fit scores are computed from (ScoreFitBinPack / ScoreFitSpread in structs/funcs.go).
import type { AgentView, TaskSpec } from '../../types.ts';

/** 10^freeCpu% + 10^freeMem% after placement: 2 for an agent left full, 20 for one left empty. */
export function fitTotalAfter(agent: AgentView, spec: TaskSpec): number {
  const cpu = share(agent.free.scalars.cpus, agent.total.scalars.cpus, spec.cpus);
  const mem = share(agent.free.scalars.mem, agent.total.scalars.mem, spec.mem);
  return 10 ** cpu + 10 ** mem;
}

function share(free: number | undefined, total: number | undefined, need: number): number {
  // An agent that offers none of it is "full" of it: it neither attracts nor repels.
  if (total === undefined || total <= 0) return 0;
  const left = ((free ?? 0) - need) / total;
  return left < 0 ? 0 : left > 1 ? 1 : left;
}
