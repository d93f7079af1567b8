// Steps form a DAG through depends_on. A step that does not write depends_on waits for the step written
// before it, so a plain list runs top to bottom; `depends_on: []` starts a step at once. Orders are
// stable: among steps that are ready together, the one written first comes first.
import { NotFound } from '../../shared/errors.ts';
import type { Pipeline } from './types.ts';

/** Each step's dependencies: as written, or the previous step's name when nothing was written. */
export function resolveDependsOn(names: readonly string[], written: ReadonlyArray<readonly string[] | null>): string[][] {
  return names.map((_, index) => {
    const explicit = written[index];
    if (explicit !== null && explicit !== undefined) return [...new Set(explicit)];
    return index === 0 ? [] : [names[index - 1]!];
  });
}

/**
 * Every dependency cycle, each as the path that closes it (`a → b → a` is `['a', 'b', 'a']`, read "a
 * depends on b, which depends on a"), starting at the step written first. Unknown names are ignored.
 */
export function findCycles(names: readonly string[], dependsOn: ReadonlyArray<readonly string[]>): string[][] {
  const indexOf = new Map(names.map((name, index) => [name, index]));
  const state = names.map(() => 'new' as 'new' | 'open' | 'done');
  const stack: number[] = [];
  const cycles: string[][] = [];
  const seen = new Set<string>();

  const visit = (index: number): void => {
    state[index] = 'open';
    stack.push(index);
    for (const dep of dependsOn[index] ?? []) {
      const next = indexOf.get(dep);
      if (next === undefined) continue;
      if (state[next] === 'open') recordCycle(stack.slice(stack.indexOf(next)));
      else if (state[next] === 'new') visit(next);
    }
    stack.pop();
    state[index] = 'done';
  };

  const recordCycle = (members: number[]): void => {
    const key = [...members].sort((a, b) => a - b).join(',');
    if (seen.has(key)) return;
    seen.add(key);
    const first = members.indexOf(Math.min(...members));
    const rotated = [...members.slice(first), ...members.slice(0, first)];
    cycles.push([...rotated, rotated[0]!].map((i) => names[i]!));
  };

  names.forEach((_, index) => {
    if (state[index] === 'new') visit(index);
  });
  return cycles;
}

/** Kahn's algorithm, taking the earliest-written ready step each time. Assumes no cycles. */
export function topologicalOrder(names: readonly string[], dependsOn: ReadonlyArray<readonly string[]>): string[] {
  const done = new Set<string>();
  const order: string[] = [];
  while (order.length < names.length) {
    const next = names.findIndex((name, index) => !done.has(name) && (dependsOn[index] ?? []).every((dep) => done.has(dep)));
    if (next < 0) throw new Error(`steps ${names.filter((n) => !done.has(n)).join(', ')} depend on each other`);
    done.add(names[next]!);
    order.push(names[next]!);
  }
  return order;
}

/** The pipeline's steps in an order that runs every dependency before its dependents. */
export function stepOrder(pipeline: Pipeline): string[] {
  return topologicalOrder(
    pipeline.steps.map((step) => step.name),
    pipeline.steps.map((step) => step.dependsOn),
  );
}

/**
 * The steps that wait for `name`, in file order: the direct ones, or with `transitive` also theirs
 * (what a failure of `name` holds back).
 */
export function stepDependents(pipeline: Pipeline, name: string, options: { transitive?: boolean } = {}): string[] {
  if (!pipeline.steps.some((step) => step.name === name)) throw new NotFound(`pipeline ${pipeline.name} has no step "${name}"`);
  const found = new Set<string>();
  let frontier = new Set([name]);
  while (frontier.size > 0) {
    const next = new Set<string>();
    for (const step of pipeline.steps) {
      if (found.has(step.name) || !step.dependsOn.some((dep) => frontier.has(dep))) continue;
      found.add(step.name);
      next.add(step.name);
    }
    frontier = options.transitive ? next : new Set();
  }
  return pipeline.steps.map((step) => step.name).filter((stepName) => found.has(stepName));
}
