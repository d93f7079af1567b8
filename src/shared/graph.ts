// Dependency graphs given as names and, for each, the names it depends on (a pipeline's steps, a group's
// apps): the cycles to refuse, and an order that puts every dependency before its dependents. Orders are
// stable: among names ready together, the one given first comes first.

/**
 * Every dependency cycle, each as the path that closes it (`a → b → a` is `['a', 'b', 'a']`, read "a
 * depends on b, which depends on a"), starting at the name given first. Unknown names are ignored.
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

/** Kahn's algorithm, taking the earliest-given ready name each time. Assumes no cycles. */
export function topologicalOrder(names: readonly string[], dependsOn: ReadonlyArray<readonly string[]>): string[] {
  const done = new Set<string>();
  const order: string[] = [];
  while (order.length < names.length) {
    const next = names.findIndex((name, index) => !done.has(name) && (dependsOn[index] ?? []).every((dep) => done.has(dep)));
    if (next < 0) throw new Error(`${names.filter((n) => !done.has(n)).join(', ')} depend on each other`);
    done.add(names[next]!);
    order.push(names[next]!);
  }
  return order;
}
