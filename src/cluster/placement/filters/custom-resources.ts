// Custom resources (`bugs:{a,b,c}`, `licenses:4`, `slots:[1-8]`): for a scalar the amount, for a range or
// set the number of items must be free. An agent without the resource has none of it.
import { covers, freeAmount, itemCount } from '../../resources/arithmetic.ts';
import type { Filter } from '../types.ts';

export const customResourcesFilter: Filter = {
  name: 'custom resources',
  appliesTo: (spec) => Object.keys(spec.resources).length > 0,
  check(agent, spec) {
    for (const [name, amount] of Object.entries(spec.resources)) {
      if (amount <= 0) continue;
      const free = freeAmount(agent.free, name);
      const need = agent.free.scalars[name] === undefined ? itemCount(amount) : amount;
      if (!covers(free, need)) return { key: `lacked ${name}`, need, free };
    }
    return true;
  },
};
