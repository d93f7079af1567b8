// A simulated pool and workload for the placement benchmark, generated from a seed so every run and
// every contender sees exactly the same agents and tasks.
import type { AttributeValue, Attributes, Constraint, RankerName, Resources, TaskSpec } from '../../src/cluster/types.ts';

export interface SimulatedAgent {
  id: string;
  hostname: string;
  attributes: Attributes;
  total: Resources;
}

const GIB = 1024;
const OSES = ['centos7', 'ubuntu22', 'ubuntu24', 'debian12'] as const;
const RACKS = 50;
const ZONES = 5;

type Rng = () => number;
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const between = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
const text = (value: string): AttributeValue => ({ kind: 'text', value });

/** cpus 2–64, mem 4–256 GiB, two port ranges, 5% with gpus; rack r1..r50 in zones z1..z5, os, level. */
export function simulatedAgents(count: number, rng: Rng): SimulatedAgent[] {
  const cpuChoices = [2, 4, 8, 8, 16, 16, 16, 32, 32, 48, 64, 64];
  return Array.from({ length: count }, (_, i) => {
    const cpus = pick(rng, cpuChoices);
    const mem = Math.min(256, Math.max(4, cpus * pick(rng, [2, 4, 4, 8]))) * GIB;
    const rack = 1 + (i % RACKS);
    const scalars: Record<string, number> = { cpus, mem, disk: between(rng, 100, 2000) * GIB };
    if (rng() < 0.05) scalars.gpus = pick(rng, [1, 2, 4, 8]);
    return {
      id: `a-${String(i).padStart(5, '0')}`,
      hostname: `node-${String(i).padStart(5, '0')}.dc1`,
      attributes: {
        rack: text(`r${rack}`),
        zone: text(`z${1 + (rack % ZONES)}`),
        os: text(pick(rng, OSES)),
        level: { kind: 'scalar', value: between(rng, 1, 10) },
      },
      total: { scalars, ranges: { ports: [[8000, 8099], [31000, 32000]] }, sets: {} },
    };
  });
}

interface GroupShape {
  constraints: Constraint[];
  strategy?: RankerName;
  /** A service port every instance binds (with hostname:UNIQUE, as such services must). */
  port?: number;
}

/** The constraint mix of one group of ~10 tasks (the instances of one app or job). */
function groupShape(rng: Rng, groupIndex: number): GroupShape {
  const r = rng();
  const strategy = rng() < 0.1 ? 'spread' : rng() < 0.05 ? 'random' : undefined;
  const withStrategy = (shape: GroupShape): GroupShape => (strategy ? { ...shape, strategy } : shape);
  if (r < 0.4) return withStrategy({ constraints: [] });
  if (r < 0.55) return withStrategy({ constraints: [{ field: 'hostname', operator: 'UNIQUE' }] });
  if (r < 0.6) return withStrategy({ constraints: [{ field: 'hostname', operator: 'UNIQUE' }], port: 8000 + (groupIndex % 100) });
  if (r < 0.7) return withStrategy({ constraints: [{ field: 'rack', operator: 'GROUP_BY' }] });
  if (r < 0.8) return withStrategy({ constraints: [{ field: 'zone', operator: 'IS', value: `z${between(rng, 1, ZONES)}` }] });
  if (r < 0.85) return withStrategy({ constraints: [{ field: 'os', operator: 'LIKE', value: 'ubuntu.*' }] });
  if (r < 0.9) return withStrategy({ constraints: [{ field: 'rack', operator: 'MAX_PER', value: '2' }] });
  if (r < 0.95) return withStrategy({ constraints: [{ field: 'os', operator: 'UNLIKE', value: 'centos.*' }] });
  if (r < 0.998) {
    return withStrategy({
      constraints: [
        { field: 'zone', operator: 'IS', value: `z${between(rng, 1, ZONES)}` },
        { field: 'hostname', operator: 'UNIQUE' },
      ],
    });
  }
  // A few groups ask for a zone that does not exist: they wait, and cost a full scan each time.
  return { constraints: [{ field: 'zone', operator: 'IS', value: 'z9' }] };
}

/** Tasks in groups of ~10: mostly small, some medium and large, 0.5% on gpus; a third want a port. */
export function simulatedTasks(count: number, rng: Rng): TaskSpec[] {
  const tasks: TaskSpec[] = [];
  let groupIndex = 0;
  while (tasks.length < count) {
    const shape = groupShape(rng, groupIndex);
    const size = between(rng, 5, 15);
    const r = rng();
    // About 0.9 cpus and 2.6 GiB per task on average: 100,000 tasks fill 5,000 agents to ~70% cpu.
    const [cpus, mem, gpus] =
      r < 0.75
        ? [pick(rng, [0.1, 0.25, 0.5, 1]), pick(rng, [128, 256, 512, 1024, 2048])]
        : r < 0.97
          ? [pick(rng, [1, 2]), pick(rng, [2, 4, 8]) * GIB]
          : r < 0.995
            ? [8, pick(rng, [16, 32, 64]) * GIB]
            : [4, 16 * GIB, pick(rng, [1, 2])];
    const ports = shape.port !== undefined ? [shape.port] : rng() < 0.3 ? [0] : rng() < 0.05 ? [0, 0] : [];
    for (let i = 0; i < size && tasks.length < count; i++) {
      const spec: TaskSpec = {
        name: `app-${groupIndex}-${i}`,
        owner: `app:app-${groupIndex}:${i}`,
        group: `app-${groupIndex}`,
        args: ['sleep', '3600'],
        env: {},
        cpus,
        mem,
        disk: 0,
        gpus: gpus ?? 0,
        ports,
        resources: {},
        constraints: shape.constraints,
        killGraceMs: 10_000,
      };
      if (shape.strategy) spec.strategy = shape.strategy;
      tasks.push(spec);
    }
    groupIndex++;
  }
  return tasks;
}
