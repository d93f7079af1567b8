// What every constraint operator shares: find the task's constraints with that operator, read the
// field on the agent, and reject with the constraint as written (`failed rack:GROUP_BY:3`).
import { formatConstraint } from '../../resources/parse-constraint.ts';
import { attributeText } from '../../resources/format.ts';
import type { AgentView, AttributeValue, Constraint, ConstraintOperator, TaskSpec } from '../../types.ts';
import type { Filter, PlacementContext } from '../types.ts';

export interface OperatorCheck {
  operator: ConstraintOperator;
  /** Marathon: an agent without the attribute passes only UNLIKE. */
  passesWhenMissing: boolean;
  /**
   * Whether the agent, whose value of the field is `value`, satisfies the constraint. `attribute` is
   * the raw attribute (undefined for hostname), for operators that compare by kind.
   */
  test(value: string, constraint: Constraint, agent: AgentView, spec: TaskSpec, ctx: PlacementContext, attribute: AttributeValue | undefined): boolean;
}

export function constraintFilter(op: OperatorCheck): Filter {
  const keys = new WeakMap<Constraint, string>();
  const keyOf = (c: Constraint): string => {
    let key = keys.get(c);
    if (key === undefined) keys.set(c, (key = `failed ${formatConstraint(c)}`));
    return key;
  };
  return {
    name: op.operator,
    appliesTo: (spec) => spec.constraints.some((c) => c.operator === op.operator),
    check(agent, spec, ctx) {
      for (const c of spec.constraints) {
        if (c.operator !== op.operator) continue;
        // As field-value.ts, inlined: this runs for every visited agent.
        let ok: boolean;
        if (c.field === 'hostname') {
          ok = op.test(agent.hostname, c, agent, spec, ctx, undefined);
        } else {
          const attribute = agent.attributes[c.field];
          ok = attribute === undefined ? op.passesWhenMissing : op.test(attributeText(attribute), c, agent, spec, ctx, attribute);
        }
        if (!ok) return { key: keyOf(c) };
      }
      return true;
    },
  };
}
