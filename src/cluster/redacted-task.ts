// A task as clients may see it: without its TaskSpec.redact values. The list itself is dropped, and
// every occurrence of a value in the env, the command, the argv and the name becomes `********`
// (an env value equal to a secret, but also `DATABASE_URL=postgres://u:SECRET@db`). The store and
// the agent running the task keep the real spec: the agent needs the values to set the env.
import { textRedactor } from '../shared/redactor.ts';
import type { TaskRecord, TaskSpec } from './types.ts';

export function redactedSpec(spec: TaskSpec): TaskSpec {
  const { redact, ...rest } = spec;
  const values = redact ?? [];
  if (values.length === 0) return rest;
  const mask = textRedactor(values);
  const masked: TaskSpec = {
    ...rest,
    name: mask(rest.name),
    env: Object.fromEntries(Object.entries(rest.env).map(([name, value]) => [name, mask(value)])),
  };
  if (rest.cmd !== undefined) masked.cmd = mask(rest.cmd);
  if (rest.args !== undefined) masked.args = rest.args.map(mask);
  return masked;
}

export function redactedTask(task: TaskRecord): TaskRecord {
  return { ...task, spec: redactedSpec(task.spec) };
}
