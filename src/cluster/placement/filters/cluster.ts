// CLUSTER: all tasks of the group on agents sharing one value of the field. With a value, that value;
// without one, whatever value the group's first task landed on (Marathon's rule: every active task of
// the group must be on this agent's value).
import { constraintFilter } from './constraint-filter.ts';

export const clusterFilter = constraintFilter({
  operator: 'CLUSTER',
  passesWhenMissing: false,
  test(value, c, _agent, spec, ctx) {
    if (c.value !== undefined && c.value !== value) return false;
    const placed = ctx.groups.size(spec.group);
    return placed === 0 || ctx.groups.countsBy(spec.group, c.field).get(value) === placed;
  },
});
