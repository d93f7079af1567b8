// UNLIKE: the field must not fully match the regular expression; an agent without the attribute passes.
import { constraintFilter } from './constraint-filter.ts';
import { fullMatch } from './full-match.ts';

export const unlikeFilter = constraintFilter({
  operator: 'UNLIKE',
  passesWhenMissing: true,
  test: (value, c) => !fullMatch(c.value ?? '', value),
});
