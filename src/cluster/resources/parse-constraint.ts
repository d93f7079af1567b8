// Marathon constraints, in the CLI form `field:OPERATOR[:value]` (the value may itself contain ':')
// and the JSON form `[field, OPERATOR, value?]`. Validation follows Marathon's: what each operator
// needs, and a helpful list of operators when one is unknown.
import { Invalid } from '../../shared/errors.ts';
import { CONSTRAINT_OPERATORS, type Constraint, type ConstraintOperator } from '../types.ts';

const FIELD = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const POSITIVE_INTEGER = /^[1-9]\d*$/;

/** Parses `hostname:UNIQUE`, `rack:GROUP_BY:3`, `os:LIKE:centos[0-9]:x` (value `centos[0-9]:x`). */
export function parseConstraint(text: string): Constraint {
  const first = text.indexOf(':');
  if (first < 0) {
    throw new Invalid(`invalid constraint "${text}": expected field:OPERATOR[:value], e.g. hostname:UNIQUE`);
  }
  const rest = text.slice(first + 1);
  const second = rest.indexOf(':');
  const operator = second < 0 ? rest : rest.slice(0, second);
  const value = second < 0 ? undefined : rest.slice(second + 1);
  return buildConstraint(text.slice(0, first), operator, value, `"${text}"`);
}

/** Parses Marathon's JSON form: `["hostname", "UNIQUE"]`, `["rack", "GROUP_BY", "3"]`. */
export function parseConstraintArray(parts: readonly unknown[]): Constraint {
  const shown = JSON.stringify(parts);
  if (!Array.isArray(parts) || parts.length < 2 || parts.length > 3 || parts.some((p) => typeof p !== 'string')) {
    throw new Invalid(`invalid constraint ${shown}: expected [field, OPERATOR] or [field, OPERATOR, value] (strings)`);
  }
  const [field, operator, value] = parts as string[];
  return buildConstraint(field!, operator!, value, shown);
}

/** How a constraint is written in messages and waiting reasons: `hostname:UNIQUE`, `rack:GROUP_BY:3`. */
export function formatConstraint(c: Constraint): string {
  return c.value === undefined ? `${c.field}:${c.operator}` : `${c.field}:${c.operator}:${c.value}`;
}

function buildConstraint(rawField: string, rawOperator: string, rawValue: string | undefined, shown: string): Constraint {
  const field = rawField.trim();
  if (field === '') throw new Invalid(`invalid constraint ${shown}: the field is empty (hostname or an attribute name)`);
  if (!FIELD.test(field)) throw new Invalid(`invalid constraint ${shown}: "${field}" is not hostname or an attribute name`);
  const operator = rawOperator.trim().toUpperCase();
  if (!isOperator(operator)) {
    throw new Invalid(
      `invalid constraint ${shown}: unknown operator "${rawOperator.trim()}" (valid: ${CONSTRAINT_OPERATORS.join(', ')})`,
    );
  }
  // An empty value is no value: Marathon treats `["rack", "CLUSTER", ""]` like `["rack", "CLUSTER"]`.
  const value = rawValue === undefined || rawValue === '' ? undefined : rawValue;
  const problem = valueProblem(operator, value);
  if (problem) throw new Invalid(`invalid constraint ${shown}: ${problem}`);
  return value === undefined ? { field, operator } : { field, operator, value };
}

function isOperator(op: string): op is ConstraintOperator {
  return (CONSTRAINT_OPERATORS as readonly string[]).includes(op);
}

/** What is wrong with the value for this operator, or null. */
function valueProblem(operator: ConstraintOperator, value: string | undefined): string | null {
  switch (operator) {
    case 'UNIQUE':
      return value === undefined ? null : `UNIQUE takes no value (got "${value}")`;
    case 'CLUSTER':
      return null;
    case 'GROUP_BY':
      if (value === undefined || POSITIVE_INTEGER.test(value)) return null;
      return `GROUP_BY's optional value is a positive integer count of groups (got "${value}")`;
    case 'MAX_PER':
      if (value === undefined) return 'MAX_PER needs a value: the most tasks per value of the field, e.g. rack:MAX_PER:2';
      return POSITIVE_INTEGER.test(value) ? null : `MAX_PER's value must be a positive integer (got "${value}")`;
    case 'LIKE':
    case 'UNLIKE':
      if (value === undefined) return `${operator} needs a value: a regular expression the whole field must match`;
      try {
        new RegExp(`^(?:${value})$`);
        return null;
      } catch (err) {
        return `"${value}" is not a valid regular expression (${(err as Error).message})`;
      }
    case 'IS':
      return value === undefined ? 'IS needs a value, e.g. zone:IS:west' : null;
    case 'WITH':
    case 'WITHOUT':
      return value === undefined ? `${operator} needs a value: the task group to place with or away from, e.g. hostname:${operator}:app:/prod/db` : null;
  }
}
