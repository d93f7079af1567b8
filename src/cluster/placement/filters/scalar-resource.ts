// cpus, mem, disk, gpus: the agent must have at least what the task asks free (to 1/1000).
// The hottest check of all (every visited agent runs it), hence one accessor per resource: a named
// property read stays fast where `scalars[name]` with a varying name would not.
import { covers } from '../../resources/arithmetic.ts';
import type { TaskSpec } from '../../types.ts';
import type { Filter } from '../types.ts';

type Scalars = Record<string, number>;

export function scalarResourceFilter(name: string, needOf: (spec: TaskSpec) => number, freeOf: (scalars: Scalars) => number | undefined): Filter {
  const key = `lacked ${name}`;
  return {
    name,
    appliesTo: (spec) => needOf(spec) > 0,
    check(agent, spec) {
      const need = needOf(spec);
      const free = freeOf(agent.free.scalars) ?? 0;
      return free >= need || covers(free, need) ? true : { key, need, free };
    },
  };
}

export const cpusFilter = scalarResourceFilter('cpus', (spec) => spec.cpus, (s) => s.cpus);
export const memFilter = scalarResourceFilter('mem', (spec) => spec.mem, (s) => s.mem);
export const diskFilter = scalarResourceFilter('disk', (spec) => spec.disk, (s) => s.disk);
export const gpusFilter = scalarResourceFilter('gpus', (spec) => spec.gpus, (s) => s.gpus);
