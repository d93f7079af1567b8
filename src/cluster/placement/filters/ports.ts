// Host ports: each specific port must be free on the agent, and enough other free ports must remain
// for the ones asked as 0 (any).
import { countInRanges, rangesContain } from '../../resources/ranges.ts';
import type { Filter } from '../types.ts';

export const portsFilter: Filter = {
  name: 'ports',
  appliesTo: (spec) => spec.ports.length > 0,
  check(agent, spec) {
    const free = agent.free.ranges.ports ?? [];
    let any = 0;
    let specific = 0;
    for (const port of spec.ports) {
      if (port === 0) any++;
      else if (!rangesContain(free, port)) return { key: `lacked port ${port}` };
      else specific++;
    }
    if (any === 0) return true;
    const available = countInRanges(free) - specific;
    return available >= any ? true : { key: 'lacked ports', need: any, free: Math.max(0, available) };
  },
};
