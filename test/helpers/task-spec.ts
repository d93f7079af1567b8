import type { TaskSpec } from '../../src/cluster/types.ts';

/** A task spec that asks for nothing, runs nothing, and has whatever `overrides` say. */
export function minimalSpec(overrides: Partial<TaskSpec> = {}): TaskSpec {
  return {
    name: 'test',
    owner: 'user:test',
    group: 'test',
    env: {},
    cpus: 0,
    mem: 0,
    disk: 0,
    gpus: 0,
    ports: [],
    resources: {},
    constraints: [],
    killGraceMs: 1000,
    ...overrides,
  };
}
