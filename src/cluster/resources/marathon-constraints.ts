// Placement constraints `[attribute, OPERATOR, value]` in Chronos's operators (EQUALS, LIKE, UNLIKE:
// mesos/chronos .../jobs/constraints/) and Marathon's, mapped onto the operators the pool places by
// (cluster/types.ts CONSTRAINT_OPERATORS). Chronos's JobDeserializer silently drops an operator it does
// not know; we reject it, naming the ones we know, because a dropped constraint runs a job where its
// owner said it must not.
import type { ConstraintOperator } from '../types.ts';

/** A constraint as the pool's task submission takes it: `[field, OPERATOR]` or `[field, OPERATOR, value]`. */
export type TaskConstraint = [string, ConstraintOperator] | [string, ConstraintOperator, string];

/**
 * Every pool operator, and what it needs as a value. Typed as a Record over the pool's operator union so
 * that a new operator in cluster/types.ts fails type-checking here until it is mapped.
 */
const POOL_OPERATORS: Record<ConstraintOperator, 'none' | 'optional' | 'required'> = {
  UNIQUE: 'none',
  CLUSTER: 'optional',
  GROUP_BY: 'optional',
  LIKE: 'required',
  UNLIKE: 'required',
  MAX_PER: 'required',
  IS: 'required',
  WITH: 'required',
  WITHOUT: 'required',
};

/**
 * Chronos's EQUALS holds when the agent's text attribute equals the value (EqualsConstraint.scala): the
 * pool's IS. Chronos's LIKE and UNLIKE are full-match regular expressions, as the pool's.
 */
const CHRONOS_OPERATORS: Record<string, ConstraintOperator> = { EQUALS: 'IS' };

const FIELD = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const POSITIVE_INTEGER = /^[1-9]\d*$/;

const KNOWN_OPERATORS = [...Object.keys(CHRONOS_OPERATORS), ...Object.keys(POOL_OPERATORS)].join(', ');

/** The pool's form of one constraint, or what is wrong with it. */
export function mapConstraint(parts: readonly string[]): TaskConstraint | { problem: string } {
  if (parts.length < 2 || parts.length > 3) {
    return { problem: `expected [attribute, OPERATOR, value] (got ${parts.length} item${parts.length === 1 ? '' : 's'})` };
  }
  const [field, rawOperator, rawValue] = parts as [string, string, string | undefined];
  if (!FIELD.test(field)) return { problem: `"${field}" is not hostname or an attribute name` };
  const written = rawOperator.toUpperCase();
  const operator = CHRONOS_OPERATORS[written] ?? (Object.hasOwn(POOL_OPERATORS, written) ? (written as ConstraintOperator) : null);
  if (operator === null) return { problem: `unknown operator "${rawOperator}" (known: ${KNOWN_OPERATORS})` };
  // Marathon reads an empty value as no value.
  const value = rawValue === undefined || rawValue === '' ? undefined : rawValue;
  const problem = valueProblem(written, operator, value);
  if (problem !== null) return { problem };
  return value === undefined ? [field, operator] : [field, operator, value];
}

function valueProblem(written: string, operator: ConstraintOperator, value: string | undefined): string | null {
  const needs = POOL_OPERATORS[operator];
  if (needs === 'required' && value === undefined) return `${written} needs a value`;
  if (needs === 'none' && value !== undefined) return `${written} takes no value (got "${value}")`;
  if (value === undefined) return null;
  if ((operator === 'MAX_PER' || operator === 'GROUP_BY') && !POSITIVE_INTEGER.test(value)) {
    return `${written}'s value is a positive whole number (got "${value}")`;
  }
  if (operator === 'LIKE' || operator === 'UNLIKE') {
    try {
      new RegExp(`^(?:${value})$`);
    } catch (err) {
      return `"${value}" is not a valid regular expression (${(err as Error).message})`;
    }
  }
  return null;
}
