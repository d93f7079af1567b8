import assert from 'node:assert/strict';
import {
  addAllocation,
  allocate,
  emptyAllocation,
  emptyResources,
  subtractAllocation,
  type ResourceRequest,
} from '../../../src/cluster/resources/arithmetic.ts';
import { formatResources, parseResources } from '../../../src/cluster/resources/parse.ts';
import type { Allocation } from '../../../src/cluster/types.ts';

const ask = (r: Partial<ResourceRequest>): ResourceRequest => ({ cpus: 0, mem: 0, disk: 0, gpus: 0, ports: [], resources: {}, ...r });
const alloc = (a: Partial<Allocation>): Allocation => ({ ...emptyAllocation(), ...a });

describe('resource arithmetic', () => {
  it('emptyResources is empty', () => {
    assert.deepEqual(emptyResources(), { scalars: {}, ranges: {}, sets: {} });
    assert.equal(formatResources(emptyResources()), '');
  });

  describe('port allocation', () => {
    const free = 'ports:[31000-31003]';
    const table: Array<[string, number[], number[] | null]> = [
      ['any two', [0, 0], [31000, 31001]],
      ['one specific', [31002], [31002]],
      ['specific and any keep their positions', [0, 31000, 0], [31001, 31000, 31002]],
      ['all four', [0, 0, 0, 0], [31000, 31001, 31002, 31003]],
      ['exhausted: five of four', [0, 0, 0, 0, 0], null],
      ['exhausted: specific plus too many any', [31001, 0, 0, 0, 0], null],
      ['a specific port not offered', [8080], null],
    ];
    for (const [name, ports, expected] of table) {
      it(`${name}: ${JSON.stringify(ports)} → ${JSON.stringify(expected)}`, () => {
        const result = allocate(parseResources(free), ask({ ports }));
        assert.deepEqual(result?.ports ?? null, expected);
      });
    }

    it('a taken port is no longer allocated, and comes back on release', () => {
      const before = parseResources('ports:[31000-31003]');
      const first = allocate(before, ask({ ports: [0, 0] }))!;
      const after = subtractAllocation(before, first);
      assert.equal(formatResources(after), 'ports:[31002-31003]');
      assert.equal(allocate(after, ask({ ports: [31000] })), null);
      assert.deepEqual(allocate(after, ask({ ports: [0] }))?.ports, [31002]);
      assert.equal(formatResources(addAllocation(after, first)), 'ports:[31000-31003]');
    });
  });

  describe('scalars and custom resources', () => {
    const free = parseResources('cpus:2;mem:1024;disk:100;gpus:1;licenses:3;slots:[1-4];bugs:{a,b,c}');
    const table: Array<[string, Partial<ResourceRequest>, Partial<Allocation> | null]> = [
      ['cpus and mem', { cpus: 1.5, mem: 512 }, { cpus: 1.5, mem: 512 }],
      ['all of it', { cpus: 2, mem: 1024, disk: 100, gpus: 1 }, { cpus: 2, mem: 1024, disk: 100, gpus: 1 }],
      ['too many cpus', { cpus: 2.5 }, null],
      ['too much mem', { mem: 1025 }, null],
      ['too many gpus', { gpus: 2 }, null],
      ['a custom scalar', { resources: { licenses: 2 } }, { scalars: { licenses: 2 } }],
      ['too much of a custom scalar', { resources: { licenses: 4 } }, null],
      ['items of a custom range', { resources: { slots: 2 } }, { ranges: { slots: [1, 2] } }],
      ['items of a custom set', { resources: { bugs: 2 } }, { sets: { bugs: ['a', 'b'] } }],
      ['too many set items', { resources: { bugs: 4 } }, null],
      ['a resource the agent lacks', { resources: { fpgas: 1 } }, null],
    ];
    for (const [name, request, expected] of table) {
      it(name, () => assert.deepEqual(allocate(free, ask(request)), expected && alloc(expected)));
    }

    it('subtracts and adds back, without mutating', () => {
      const a = allocate(free, ask({ cpus: 1, mem: 256, gpus: 1, resources: { licenses: 1, slots: 1, bugs: 1 } }))!;
      const after = subtractAllocation(free, a);
      assert.equal(formatResources(after), 'cpus:1;mem:768;disk:100;gpus:0;licenses:2;slots:[2-4];bugs:{b,c}');
      assert.equal(formatResources(free), 'cpus:2;mem:1024;disk:100;gpus:1;licenses:3;slots:[1-4];bugs:{a,b,c}');
      assert.deepEqual(parseResources(formatResources(addAllocation(after, a))).scalars, free.scalars);
    });

    it('keeps scalars exact to 1/1000 over many small allocations', () => {
      let r = parseResources('cpus:1');
      const tenth = allocate(r, ask({ cpus: 0.1 }))!;
      for (let i = 0; i < 10; i++) r = subtractAllocation(r, tenth);
      assert.equal(r.scalars.cpus, 0);
      for (let i = 0; i < 3; i++) r = addAllocation(r, tenth);
      assert.equal(r.scalars.cpus, 0.3);
      assert.ok(allocate(r, ask({ cpus: 0.3 })));
    });

    it('gives back no more than the total when one is given', () => {
      const total = parseResources('cpus:2;ports:[100-101]');
      const freeNow = parseResources('cpus:2;ports:[101-101]');
      const back = addAllocation(freeNow, alloc({ cpus: 1, ports: [100, 500] }), total);
      assert.equal(formatResources(back), 'cpus:2;ports:[100-101]');
    });
  });
});
