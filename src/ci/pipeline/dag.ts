// Steps form a DAG through depends_on. A step that does not write depends_on waits for the step written
// before it, so a plain list runs top to bottom; `depends_on: []` starts a step at once. Orders are
// stable: among steps that are ready together, the one written first comes first.
import { NotFound } from '../../shared/errors.ts';
import { topologicalOrder } from '../../shared/graph.ts';
import type { Pipeline } from './types.ts';

export { findCycles, topologicalOrder } from '../../shared/graph.ts';

/** Each step's dependencies: as written, or the previous step's name when nothing was written. */
export function resolveDependsOn(names: readonly string[], written: ReadonlyArray<readonly string[] | null>): string[][] {
  return names.map((_, index) => {
    const explicit = written[index];
    if (explicit !== null && explicit !== undefined) return [...new Set(explicit)];
    return index === 0 ? [] : [names[index - 1]!];
  });
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
