// WITH and WITHOUT: affinity and anti-affinity to another task group (an app's instances), by the
// field's value: `hostname:WITH:app:/prod/db` places on an agent that runs an active task of group
// `app:/prod/db`, `rack:WITHOUT:app:/prod/db` in a rack where none runs. The group index already counts
// each group's tasks by field value (group-index.ts): one lookup per agent.
import { constraintFilter } from './constraint-filter.ts';

export const withFilter = constraintFilter({
  operator: 'WITH',
  // An agent without the field is in no rack the other group runs in.
  passesWhenMissing: false,
  test: (value, c, _agent, _spec, ctx) => (ctx.groups.countsBy(c.value!, c.field).get(value) ?? 0) > 0,
});

export const withoutFilter = constraintFilter({
  operator: 'WITHOUT',
  passesWhenMissing: true,
  test: (value, c, _agent, _spec, ctx) => (ctx.groups.countsBy(c.value!, c.field).get(value) ?? 0) === 0,
});
