// The dependency graph of the batch jobs: an edge parent → child for each name in a job's `parents`.
// It stays a DAG of existing jobs: every change is checked before anything moves (an unknown parent or
// a cycle is an Invalid naming the job and the path), so a caller can check, store, then apply, and a
// refused change leaves both the store and the graph as they were.
import { Invalid, NotFound } from '../../shared/errors.ts';
import type { JobDefinition } from './definition.ts';
import { graphToCsv, graphToDot, type JobRunStatus } from './graph-export.ts';
import { planParentRemoval, type ParentRemoval } from './parent-removal.ts';

export class JobGraph {
  private readonly jobs = new Map<string, JobDefinition>();
  /** parent → its children; a job with no child has no entry. */
  private readonly childrenOf = new Map<string, Set<string>>();

  /** A graph of `jobs`, checked as a whole (e.g. at start, from the store). */
  static of(jobs: Iterable<JobDefinition>): JobGraph {
    const graph = new JobGraph();
    const problems: string[] = [];
    for (const job of jobs) {
      if (graph.jobs.has(job.name)) problems.push(`job "${job.name}" is defined twice`);
      graph.jobs.set(job.name, job);
    }
    for (const job of graph.jobs.values()) {
      const missing = graph.missingParents(job);
      if (missing.length > 0) problems.push(missingParentsMessage(job.name, missing));
      else graph.link(job);
    }
    if (problems.length === 0) {
      const cycle = graph.anyCycle();
      if (cycle !== null) problems.push(cycleMessage(cycle));
    }
    if (problems.length > 0) throw new Invalid(problems.join('; '));
    return graph;
  }

  get size(): number {
    return this.jobs.size;
  }

  has(name: string): boolean {
    return this.jobs.has(name);
  }

  get(name: string): JobDefinition | undefined {
    return this.jobs.get(name);
  }

  /** The job names, sorted. */
  names(): string[] {
    return [...this.jobs.keys()].sort();
  }

  parents(name: string): string[] {
    const timing = this.require(name).timing;
    return timing.kind === 'dependent' ? [...timing.parents] : [];
  }

  /** The jobs that name `name` among their parents, sorted. */
  children(name: string): string[] {
    this.require(name);
    return [...(this.childrenOf.get(name) ?? [])].sort();
  }

  /** Every job after all of its parents; among jobs that are ready together, by name. */
  topologicalOrder(): string[] {
    const waitingFor = new Map<string, number>();
    for (const name of this.jobs.keys()) waitingFor.set(name, this.parents(name).length);
    const order = this.names().filter((name) => waitingFor.get(name) === 0);
    for (let i = 0; i < order.length; i++) {
      for (const child of this.children(order[i]!)) {
        const left = waitingFor.get(child)! - 1;
        waitingFor.set(child, left);
        if (left === 0) order.push(child);
      }
    }
    return order;
  }

  /** Throws Invalid if adding or replacing `job` would name a missing parent or close a cycle. */
  checkPut(job: JobDefinition): void {
    const missing = this.missingParents(job);
    if (missing.length > 0) throw new Invalid(missingParentsMessage(job.name, missing));
    if (job.timing.kind !== 'dependent') return;
    // A cycle through the new edges parent → job exists iff some parent is reachable from the job.
    const path = this.pathToAny(job.name, new Set(job.timing.parents));
    if (path !== null) throw new Invalid(cycleMessage([...path, job.name]));
  }

  /** Adds or replaces `job` after checkPut. */
  put(job: JobDefinition): void {
    this.checkPut(job);
    const previous = this.jobs.get(job.name);
    if (previous !== undefined) this.unlink(previous);
    this.jobs.set(job.name, job);
    this.link(job);
  }

  /** What deleting `name` does to its children (Chronos's rule, see parent-removal.ts); changes nothing. */
  planRemoval(name: string): ParentRemoval {
    return planParentRemoval(this, this.require(name));
  }

  /** Deletes `name` and applies the changes to its children; returns them for the caller to store and report. */
  remove(name: string): ParentRemoval {
    const plan = this.planRemoval(name);
    const removed = this.require(name);
    this.unlink(removed);
    this.jobs.delete(name);
    this.childrenOf.delete(name);
    for (const change of plan.children) {
      this.unlink(this.require(change.name));
      this.jobs.set(change.name, change.definition);
      this.link(change.definition);
    }
    return plan;
  }

  /** Chronos's `/scheduler/graph/dot`. */
  toDot(): string {
    return graphToDot(this);
  }

  /** Chronos's `/scheduler/graph/csv`; `statusOf` gives each job's last outcome and current state. */
  toCsv(statusOf: (name: string) => JobRunStatus | undefined): string {
    return graphToCsv(this, statusOf);
  }

  private require(name: string): JobDefinition {
    const job = this.jobs.get(name);
    if (job === undefined) throw new NotFound(`job "${name}" not found`);
    return job;
  }

  private missingParents(job: JobDefinition): string[] {
    if (job.timing.kind !== 'dependent') return [];
    // A job naming itself is a cycle, reported as such, not a missing parent.
    return job.timing.parents.filter((p) => p !== job.name && !this.jobs.has(p));
  }

  private link(job: JobDefinition): void {
    if (job.timing.kind !== 'dependent') return;
    for (const parent of job.timing.parents) {
      let children = this.childrenOf.get(parent);
      if (children === undefined) this.childrenOf.set(parent, (children = new Set()));
      children.add(job.name);
    }
  }

  private unlink(job: JobDefinition): void {
    if (job.timing.kind !== 'dependent') return;
    for (const parent of job.timing.parents) {
      const children = this.childrenOf.get(parent);
      children?.delete(job.name);
      if (children?.size === 0) this.childrenOf.delete(parent);
    }
  }

  private sortedChildren(name: string): string[] {
    return [...(this.childrenOf.get(name) ?? [])].sort();
  }

  /**
   * The shortest path from `start` down its children to one of `targets` (start included), or null.
   * Breadth-first and iterative: a long chain of jobs must not overflow the stack.
   */
  private pathToAny(start: string, targets: ReadonlySet<string>): string[] | null {
    const cameFrom = new Map<string, string | null>([[start, null]]);
    const queue = [start];
    for (let i = 0; i < queue.length; i++) {
      const name = queue[i]!;
      if (targets.has(name)) {
        const path: string[] = [];
        for (let at: string | null = name; at !== null; at = cameFrom.get(at)!) path.push(at);
        return path.reverse();
      }
      for (const child of this.sortedChildren(name)) {
        if (cameFrom.has(child)) continue;
        cameFrom.set(child, name);
        queue.push(child);
      }
    }
    return null;
  }

  /** Some cycle `[a, b, ..., a]` among the linked jobs, or null: an iterative depth-first search. */
  private anyCycle(): string[] | null {
    const done = new Set<string>();
    for (const root of this.names()) {
      if (done.has(root)) continue;
      // The open path from `root`, each job with the children it has still to visit.
      const path: Array<{ name: string; next: string[] }> = [{ name: root, next: this.sortedChildren(root) }];
      const onPath = new Set([root]);
      while (path.length > 0) {
        const top = path[path.length - 1]!;
        const child = top.next.shift();
        if (child === undefined) {
          path.pop();
          onPath.delete(top.name);
          done.add(top.name);
        } else if (onPath.has(child)) {
          const names = path.map((p) => p.name);
          return [...names.slice(names.indexOf(child)), child];
        } else if (!done.has(child)) {
          path.push({ name: child, next: this.sortedChildren(child) });
          onPath.add(child);
        }
      }
    }
    return null;
  }
}

function missingParentsMessage(job: string, missing: readonly string[]): string {
  const names = missing.map((p) => `"${p}"`).join(', ');
  return missing.length === 1
    ? `job "${job}": parent ${names} does not exist`
    : `job "${job}": parents ${names} do not exist`;
}

function cycleMessage(path: readonly string[]): string {
  return `dependency cycle: ${path.join(' → ')}`;
}
