// LIKE: the field must fully match the regular expression; an agent without the attribute fails.
import { constraintFilter } from './constraint-filter.ts';
import { fullMatch } from './full-match.ts';

export const likeFilter = constraintFilter({
  operator: 'LIKE',
  passesWhenMissing: false,
  test: (value, c) => fullMatch(c.value ?? '', value),
});
