// Rules of a job definition that involve more than one field's type: mapped constraints, durations that
// must agree, names the pool will refuse later. They read the raw definition (nulls dropped) so that they
// run even when the schema has already found other problems: one answer lists them all.
import { mapConstraint, type TaskConstraint } from '../../cluster/index.ts';
import { JOB_DEFAULTS } from './defaults.ts';
import type { RetryBackoff } from './definition.ts';
import { durationField } from './durations.ts';
import type { Problem } from './problems.ts';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The retry delays, defaults filled in; the cap may not be under the first delay. */
export function retryBackoffOf(value: unknown, problems: Problem[]): RetryBackoff | undefined {
  const defaults = JOB_DEFAULTS.retryBackoff;
  if (typeof value !== 'object' || value === null) return { ...defaults };
  const given = value as { initial?: unknown; max?: unknown; factor?: unknown };
  const initialMs = typeof given.initial === 'string' ? durationField(given.initial, 'retryBackoff.initial', problems) : defaults.initialMs;
  const maxMs = typeof given.max === 'string' ? durationField(given.max, 'retryBackoff.max', problems) : Math.max(defaults.maxMs, initialMs ?? 0);
  const factor = typeof given.factor === 'number' ? given.factor : typeof given.factor === 'string' ? Number(given.factor) : defaults.factor;
  if (initialMs === undefined || maxMs === undefined) return undefined;
  if (maxMs < initialMs) {
    problems.push({ path: 'retryBackoff.max', problem: `must not be shorter than retryBackoff.initial (${maxMs} ms < ${initialMs} ms)` });
    return undefined;
  }
  return { initialMs, factor, maxMs };
}

/** The constraints in the pool's form (constraints.ts), each bad one reported at its index. */
export function constraintsOf(value: unknown, problems: Problem[]): TaskConstraint[] {
  if (!Array.isArray(value)) return [];
  const constraints: TaskConstraint[] = [];
  value.forEach((parts: unknown, i) => {
    if (!Array.isArray(parts) || !parts.every((p) => typeof p === 'string')) return; // the schema reports the type
    const mapped = mapConstraint(parts);
    if ('problem' in mapped) problems.push({ path: `constraints[${i}]`, problem: mapped.problem });
    else constraints.push(mapped);
  });
  return constraints;
}

/** The pool only runs tasks whose variable names a shell can use (cluster/task-spec.ts); say so now, not at the first run. */
export function checkEnvironmentNames(value: unknown, problems: Problem[]): void {
  if (!Array.isArray(value)) return;
  value.forEach((variable: unknown, i) => {
    const name = (variable as { name?: unknown } | null)?.name;
    if (typeof name === 'string' && !ENV_NAME.test(name)) {
      problems.push({ path: `environmentVariables[${i}].name`, problem: `"${name}" is not a variable name (letters, digits and _, not starting with a digit)` });
    }
  });
}

/**
 * Chronos `concurrent: true` lets runs overlap (Allow); false or absent skips a run that is due while the
 * job still runs (Forbid: MesosJobFramework drops the queued task when `jobIsRunning && !job.concurrent`).
 * `concurrencyPolicy` says the same in Gantry's words; both may be given if they agree.
 */
export function checkConcurrency(raw: Record<string, unknown>, problems: Problem[]): void {
  const policy = raw.concurrencyPolicy;
  const concurrent = raw.concurrent === 'true' ? true : raw.concurrent === 'false' ? false : raw.concurrent;
  if (typeof policy !== 'string' || typeof concurrent !== 'boolean') return;
  if (concurrent !== (policy === 'Allow')) {
    problems.push({
      path: 'concurrencyPolicy',
      problem: `"${policy}" contradicts "concurrent": ${concurrent} (concurrent true is "Allow"; give one of the two)`,
    });
  }
}

/** Chronos hands `command` to a custom Mesos executor when one is named; Gantry has none to hand it to. */
export function checkExecutor(value: unknown, problems: Problem[]): void {
  if (typeof value === 'string' && value !== '') {
    problems.push({ path: 'executor', problem: 'custom Mesos executors are not supported: leave it empty and put the program in "command"' });
  }
}
