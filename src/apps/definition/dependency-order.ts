// The order apps start and stop in, from their dependencies: an app starts after every app it depends
// on (a dependency on a group means every app in it, as in Marathon's RootGroup.applicationDependencies)
// and stops before them. Apps that do not depend on each other form one wave, to start together.
// Cycles are found and named (`/a → /b → /a`) with ci/pipeline's graph code, shared with pipeline steps.
import { findCycles, topologicalOrder } from '../../shared/graph.ts';
import { isWithin } from './app-id.ts';
import { AppDefinitionInvalid } from './problems.ts';

/** An app as ordering sees it: its id and the absolute ids (apps or groups) it depends on. */
export interface DependencyNode {
  id: string;
  dependencies: readonly string[];
}

/** For each node, the ids of the nodes it depends on; dependencies outside the list (already running apps) are left out. */
export function dependencyEdges(nodes: readonly DependencyNode[]): string[][] {
  return nodes.map((node) => {
    const on = nodes.filter((other) => node.dependencies.some((dependency) => isWithin(other.id, dependency))).map((other) => other.id);
    return [...new Set(on)];
  });
}

/** Every cycle, each as the path that closes it: `['/a', '/b', '/a']` reads "/a depends on /b, which depends on /a". */
export function dependencyCycles(nodes: readonly DependencyNode[]): string[][] {
  return findCycles(
    nodes.map((node) => node.id),
    dependencyEdges(nodes),
  );
}

export function describeCycle(cycle: readonly string[]): string {
  return `dependency cycle: ${cycle.join(' → ')}`;
}

/** Waves of app ids: every app in a wave depends only on apps of earlier waves. Throws AppDefinitionInvalid on a cycle. */
export function startOrder(nodes: readonly DependencyNode[]): string[][] {
  const cycles = dependencyCycles(nodes);
  if (cycles.length > 0) throw new AppDefinitionInvalid('dependencies', [{ path: '/dependencies', errors: cycles.map(describeCycle) }]);
  const names = nodes.map((node) => node.id);
  const edges = dependencyEdges(nodes);
  const wave = new Map<string, number>();
  for (const id of topologicalOrder(names, edges)) {
    const on = edges[names.indexOf(id)] ?? [];
    wave.set(id, on.length === 0 ? 0 : 1 + Math.max(...on.map((dependency) => wave.get(dependency) ?? 0)));
  }
  const waves: string[][] = [];
  for (const id of names) (waves[wave.get(id)!] ??= []).push(id);
  return waves;
}

/** The start order reversed: dependents stop before what they depend on. */
export function stopOrder(nodes: readonly DependencyNode[]): string[][] {
  return startOrder(nodes).reverse();
}
