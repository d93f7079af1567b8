// Dependencies must name something: an app or a group of what is being deployed, or an app already
// deployed (or a group holding one). Marathon drops a dependency on nothing silently; here it is
// refused, since a typo would leave an app waiting for an app that never comes. Cycles are refused too,
// including those that run through deployed apps.
import { isWithin } from './app-id.ts';
import { dependencyCycles, describeCycle, type DependencyNode } from './dependency-order.ts';
import { AppDefinitionInvalid, type AppProblem } from './problems.ts';
import type { AppDefinition } from './types.ts';

/** Whether `id` is one of `ids` or a group holding one of them. */
export function isKnownDependency(id: string, ids: readonly string[]): boolean {
  return ids.some((known) => isWithin(known, id));
}

export function unknownDependency(id: string, written: string, base: string): string {
  const read = id !== written ? ` ("${written}" read in ${base})` : '';
  return `unknown app or group ${id}${read}: not in this definition and not deployed`;
}

/** The new apps, and the deployed ones they do not replace. */
export function withExisting(nodes: readonly DependencyNode[], existing: readonly DependencyNode[]): DependencyNode[] {
  const ids = new Set(nodes.map((node) => node.id));
  return [...nodes, ...existing.filter((node) => !ids.has(node.id))];
}

/**
 * For apps posted on their own (`/v2/apps`, one or a list): throws AppDefinitionInvalid when one depends
 * on nothing known or the dependencies close a cycle. Paths are `/dependencies` for a single app,
 * `/(i)/dependencies` in a list.
 */
export function checkAppDependencies(apps: readonly AppDefinition[], existing: readonly DependencyNode[] = []): void {
  const known = [...apps.map((app) => app.id), ...existing.map((app) => app.id)];
  const byPath = new Map<string, AppProblem>();
  const report = (i: number, error: string): void => {
    const path = apps.length === 1 ? '/dependencies' : `/(${i})/dependencies`;
    const problem = byPath.get(path) ?? { path, errors: [] };
    problem.errors.push(error);
    byPath.set(path, problem);
  };
  apps.forEach((app, i) => {
    for (const id of app.dependencies) if (!isKnownDependency(id, known)) report(i, unknownDependency(id, id, '/'));
  });
  for (const cycle of dependencyCycles(withExisting(apps, existing))) {
    report(Math.max(0, apps.findIndex((app) => cycle.includes(app.id))), describeCycle(cycle));
  }
  const problems = [...byPath.values()];
  if (problems.length > 0) throw new AppDefinitionInvalid(apps.length === 1 ? `app "${apps[0]!.id}"` : 'apps', problems);
}
