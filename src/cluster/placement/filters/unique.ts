// UNIQUE: no other active task of the group on an agent with the same value of the field
// (`hostname:UNIQUE`: one per host; `rack:UNIQUE`: one per rack).
import { constraintFilter } from './constraint-filter.ts';

export const uniqueFilter = constraintFilter({
  operator: 'UNIQUE',
  passesWhenMissing: false,
  test: (value, c, _agent, spec, ctx) => !ctx.groups.countsBy(spec.group, c.field).has(value),
});
