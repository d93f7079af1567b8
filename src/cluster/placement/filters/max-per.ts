// MAX_PER: at most N active tasks of the group per value of the field (`rack:MAX_PER:2`).
import { constraintFilter } from './constraint-filter.ts';

export const maxPerFilter = constraintFilter({
  operator: 'MAX_PER',
  passesWhenMissing: false,
  test: (value, c, _agent, spec, ctx) => (ctx.groups.countsBy(spec.group, c.field).get(value) ?? 0) < Number(c.value),
});
