// GROUP_BY: spread the group evenly over the values of the field. As in Marathon, an agent passes when
// its value has no task of the group yet, or when at least `count` values are in use and its value
// holds the fewest tasks. Without a count, Marathon could only guess the values from the offers it
// happened to see; we know the pool, so the default count is the number of values the pool's agents
// have: `rack:GROUP_BY` on three racks places 2-2-2, not 3-3 on two of them.
import { constraintFilter } from './constraint-filter.ts';

export const groupByFilter = constraintFilter({
  operator: 'GROUP_BY',
  passesWhenMissing: false,
  test(value, c, _agent, spec, ctx) {
    const counts = ctx.groups.countsBy(spec.group, c.field);
    const here = counts.get(value);
    if (here === undefined) return true;
    const minimumGroups = c.value === undefined ? ctx.distinctValues(c.field) : Number(c.value);
    if (counts.size < minimumGroups) return false;
    for (const n of counts.values()) if (n < here) return false;
    return true;
  },
});
