// Resource arithmetic on an agent's free resources: carve an Allocation for a task out of them, take it
// away when the task is committed, give it back when the task ends. Values are never mutated: each
// operation returns new objects and shares what did not change, so snapshots stay valid and cheap.
import type { Allocation, Range, Resources, TaskSpec } from '../types.ts';
import { addToRanges, countInRanges, rangesContain, removeFromRanges, takeLowest } from './ranges.ts';

/** The part of a TaskSpec that asks for resources. */
export type ResourceRequest = Pick<TaskSpec, 'cpus' | 'mem' | 'disk' | 'gpus' | 'ports' | 'resources'>;

export const STANDARD_SCALARS = ['cpus', 'mem', 'disk', 'gpus'] as const;
export type StandardScalar = (typeof STANDARD_SCALARS)[number];

export function emptyResources(): Resources {
  return { scalars: {}, ranges: {}, sets: {} };
}

export function emptyAllocation(): Allocation {
  return { cpus: 0, mem: 0, disk: 0, gpus: 0, ports: [], scalars: {}, ranges: {}, sets: {} };
}

/**
 * Scalars are kept to 1/1000, like Mesos's fixed-point arithmetic: without it, 0.1 + 0.2 cpus freed and
 * taken again drifts until a 0.1-cpu task no longer fits an agent that is visibly free.
 */
export function roundScalar(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** True when `free` covers `need` once both are rounded to 1/1000. */
export function covers(free: number, need: number): boolean {
  return roundScalar(free) >= roundScalar(need);
}

/** How much of a resource is free: the amount of a scalar, the number of items of a range or set. */
export function freeAmount(free: Resources, name: string): number {
  const scalar = free.scalars[name];
  if (scalar !== undefined) return scalar;
  const ranges = free.ranges[name];
  if (ranges !== undefined) return countInRanges(ranges);
  return free.sets[name]?.length ?? 0;
}

/** Items a task asks of a range or set resource: counts are whole, a fraction rounds up. */
export function itemCount(amount: number): number {
  return Math.ceil(amount);
}

/**
 * The allocation a task would get from these free resources, or null when they do not cover it.
 * Ports: `ports[i]` non-zero is that exact port, 0 takes the lowest free port not asked for explicitly;
 * the allocation keeps the positions of the request so PORT0, PORT1... mean what the task asked.
 * Runs for every scored candidate, so the standard scalars are read by name rather than in a loop.
 */
export function allocate(free: Resources, request: ResourceRequest): Allocation | null {
  const s = free.scalars;
  if (!fits(s.cpus, request.cpus) || !fits(s.mem, request.mem) || !fits(s.disk, request.disk) || !fits(s.gpus, request.gpus)) {
    return null;
  }
  const alloc = emptyAllocation();
  alloc.cpus = Math.max(0, request.cpus);
  alloc.mem = Math.max(0, request.mem);
  alloc.disk = Math.max(0, request.disk);
  alloc.gpus = Math.max(0, request.gpus);
  if (request.ports.length > 0) {
    const ports = allocatePorts(free.ranges.ports ?? [], request.ports);
    if (!ports) return null;
    alloc.ports = ports;
  }
  for (const name in request.resources) {
    const amount = request.resources[name]!;
    if (amount <= 0) continue;
    const scalar = s[name];
    const ranges = free.ranges[name];
    const set = free.sets[name];
    if (scalar !== undefined) {
      if (!covers(scalar, amount)) return null;
      alloc.scalars[name] = amount;
    } else if (ranges !== undefined) {
      const taken = takeLowest(ranges, itemCount(amount));
      if (taken.length < itemCount(amount)) return null;
      alloc.ranges[name] = taken;
    } else if (set !== undefined) {
      if (set.length < itemCount(amount)) return null;
      alloc.sets[name] = set.slice(0, itemCount(amount));
    } else {
      return null;
    }
  }
  return alloc;
}

function fits(free: number | undefined, need: number): boolean {
  return need <= 0 || covers(free ?? 0, need);
}

/** The ports for a request (`0` = any), or null when a specific one is taken or too few are free. */
export function allocatePorts(free: readonly Range[], wanted: readonly number[]): number[] | null {
  const specific = new Set<number>();
  let any = 0;
  for (const port of wanted) {
    if (port === 0) any++;
    else if (!rangesContain(free, port)) return null;
    else specific.add(port);
  }
  const picked = takeLowest(free, any, specific);
  if (picked.length < any) return null;
  let next = 0;
  return wanted.map((port) => (port === 0 ? picked[next++]! : port));
}

/** Free resources after a task takes `alloc`. Lenient: what is already gone stays gone, scalars may go below 0. */
export function subtractAllocation(free: Resources, alloc: Allocation): Resources {
  const scalars = { ...free.scalars };
  for (const name of STANDARD_SCALARS) {
    if (alloc[name] > 0) scalars[name] = roundScalar((scalars[name] ?? 0) - alloc[name]);
  }
  for (const name in alloc.scalars) scalars[name] = roundScalar((scalars[name] ?? 0) - alloc.scalars[name]!);
  let ranges = free.ranges;
  if (alloc.ports.length > 0 || hasKeys(alloc.ranges)) {
    ranges = { ...free.ranges };
    removeRangeValues(ranges, 'ports', alloc.ports);
    for (const name in alloc.ranges) removeRangeValues(ranges, name, alloc.ranges[name]!);
  }
  let sets = free.sets;
  if (hasKeys(alloc.sets)) {
    sets = { ...free.sets };
    for (const name in alloc.sets) {
      const current = sets[name];
      if (!current) continue;
      const taken = new Set(alloc.sets[name]);
      sets[name] = current.filter((i) => !taken.has(i));
    }
  }
  return withRoles({ scalars, ranges, sets }, free);
}

/**
 * Free resources after a task gives `alloc` back. With `total`, nothing is returned beyond what the
 * agent offers now (its total may have shrunk while the task ran, on re-registration).
 */
export function addAllocation(free: Resources, alloc: Allocation, total?: Resources): Resources {
  const scalars = { ...free.scalars };
  for (const name of STANDARD_SCALARS) addScalar(scalars, name, alloc[name], total);
  for (const name in alloc.scalars) addScalar(scalars, name, alloc.scalars[name]!, total);
  let ranges = free.ranges;
  if (alloc.ports.length > 0 || hasKeys(alloc.ranges)) {
    ranges = { ...free.ranges };
    addRangeValues(ranges, 'ports', alloc.ports, total);
    for (const name in alloc.ranges) addRangeValues(ranges, name, alloc.ranges[name]!, total);
  }
  let sets = free.sets;
  if (hasKeys(alloc.sets)) {
    sets = { ...free.sets };
    for (const name in alloc.sets) {
      const offered = total ? total.sets[name] : undefined;
      if (total && !offered) continue;
      const current = sets[name] ?? [];
      const present = new Set(current);
      const back = alloc.sets[name]!.filter((i) => !present.has(i) && (!offered || offered.includes(i)));
      if (back.length > 0) sets[name] = [...current, ...back];
    }
  }
  return withRoles({ scalars, ranges, sets }, free);
}

function addScalar(scalars: Record<string, number>, name: string, amount: number, total: Resources | undefined): void {
  if (amount <= 0) return;
  const cap = total ? total.scalars[name] : undefined;
  if (total && cap === undefined) return;
  const sum = roundScalar((scalars[name] ?? 0) + amount);
  scalars[name] = cap === undefined ? sum : Math.min(sum, cap);
}

function removeRangeValues(ranges: Record<string, Range[]>, name: string, values: readonly number[]): void {
  const current = ranges[name];
  if (current && values.length > 0) ranges[name] = removeFromRanges(current, values);
}

function addRangeValues(ranges: Record<string, Range[]>, name: string, values: readonly number[], total: Resources | undefined): void {
  const offered = total ? total.ranges[name] : undefined;
  if (total && !offered) return;
  const back = offered ? values.filter((v) => rangesContain(offered, v)) : values;
  if (back.length > 0) ranges[name] = addToRanges(ranges[name] ?? [], back);
}

function hasKeys(record: object): boolean {
  for (const _ in record) return true;
  return false;
}

function withRoles(r: Resources, from: Resources): Resources {
  if (from.roles) r.roles = from.roles;
  return r;
}
