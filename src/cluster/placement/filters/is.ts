// IS: the field equals the value. A scalar attribute compares as a number (`level:IS:10.0` matches
// `level:10`), anything else as text.
import { constraintFilter } from './constraint-filter.ts';

export const isFilter = constraintFilter({
  operator: 'IS',
  passesWhenMissing: false,
  test(value, c, _agent, _spec, _ctx, attribute) {
    const wanted = c.value ?? '';
    if (attribute?.kind === 'scalar') return wanted.trim() !== '' && Number(wanted) === attribute.value;
    return value === wanted;
  },
});
