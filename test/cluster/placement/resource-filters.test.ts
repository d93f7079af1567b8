// The resource filters through placeTask on one agent: what passes, and the rejection each shortfall gives.
import assert from 'node:assert/strict';
import { placeTask } from '../../../src/cluster/placement/pipeline.ts';
import { agent, contextWith, spec } from './helpers.ts';

const TOTAL = 'cpus:4;mem:4096;disk:1000;gpus:1;ports:[31000-31002];licenses:2;slots:[1-3];bugs:{a,b}';

type Row = [name: string, free: string, ask: Parameters<typeof spec>[0], rejection: string | null];

const TABLE: Row[] = [
  ['cpus fit', TOTAL, { cpus: 4 }, null],
  ['cpus short', 'cpus:1.5;mem:4096', { cpus: 2 }, 'lacked cpus (need 2, max free 1.5)'],
  ['mem fits', TOTAL, { mem: 4096 }, null],
  ['mem short', 'cpus:4;mem:256', { mem: 512 }, 'lacked mem (need 512, max free 256)'],
  ['disk short', 'disk:10', { disk: 20 }, 'lacked disk (need 20, max free 10)'],
  ['gpus fit', TOTAL, { gpus: 1 }, null],
  ['no gpus at all', 'cpus:4', { gpus: 1 }, 'lacked gpus (need 1, max free 0)'],
  ['any ports fit', TOTAL, { ports: [0, 0, 0] }, null],
  ['any ports exhausted', 'ports:[31000-31001]', { ports: [0, 0, 0] }, 'lacked ports (need 3, max free 2)'],
  ['a specific port free', TOTAL, { ports: [31001] }, null],
  ['a specific port taken', 'ports:[31000-31000,31002-31002]', { ports: [31001] }, 'lacked port 31001'],
  ['a specific port not offered', TOTAL, { ports: [80] }, 'lacked port 80'],
  ['specific plus any: the specific one is not counted twice', 'ports:[31000-31001]', { ports: [31000, 0, 0] }, 'lacked ports (need 2, max free 1)'],
  ['custom scalar fits', TOTAL, { resources: { licenses: 2 } }, null],
  ['custom scalar short', TOTAL, { resources: { licenses: 3 } }, 'lacked licenses (need 3, max free 2)'],
  ['custom range items short', TOTAL, { resources: { slots: 4 } }, 'lacked slots (need 4, max free 3)'],
  ['custom set items fit', TOTAL, { resources: { bugs: 2 } }, null],
  ['custom set items short', 'bugs:{a}', { resources: { bugs: 2 } }, 'lacked bugs (need 2, max free 1)'],
  ['custom resource missing', TOTAL, { resources: { fpgas: 1 } }, 'lacked fpgas (need 1, max free 0)'],
];

describe('resource filters', () => {
  for (const [name, free, ask, rejection] of TABLE) {
    it(`${name}: ${rejection ?? 'placed'}`, () => {
      const a = agent('a1', TOTAL, '', { free });
      const result = placeTask(spec(ask), [a], contextWith([a]));
      if (rejection === null) {
        assert.ok(result.ok, result.ok ? '' : result.reason);
      } else {
        assert.ok(!result.ok, 'expected a rejection');
        assert.equal(result.reason, `1 agent: 1 ${rejection}`);
      }
    });
  }

  it('gives the placed task the ports it asked for', () => {
    const a = agent('a1', TOTAL);
    const result = placeTask(spec({ ports: [0, 31000] }), [a], contextWith([a]));
    assert.ok(result.ok);
    assert.deepEqual(result.allocation.ports, [31001, 31000]);
  });
});
