// Scaling and kill order: Marathon's ScalingProposition and its test
// (src/test/scala/mesosphere/marathon/core/deployment/impl/ScalingPropositionTest.scala).
import assert from 'node:assert/strict';
import { killOrder, nextScalingStep, type InstanceView } from '../../../src/apps/deployments/index.ts';

const running = (id: string, since: number, available = true): InstanceView => ({ id, phase: 'running', available, killing: false, since });
const staging = (id: string, since: number): InstanceView => ({ id, phase: 'staging', available: false, killing: false, since });
const unreachable = (id: string, since: number): InstanceView => ({ id, phase: 'unreachable', available: false, killing: false, since });
const killing = (id: string, since: number): InstanceView => ({ ...running(id, since), killing: true });

describe('apps: scaling (Marathon ScalingProposition)', () => {
  const three = [running('a', 1000), running('b', 3000), running('c', 2000)];

  // [name, instances, target, killSelection, sentenced, start, kills, done]
  const table: Array<[string, InstanceView[], number, 'YOUNGEST_FIRST' | 'OLDEST_FIRST', string[], number, string[], boolean]> = [
    ['no instances and a positive target: start them all ("given no running tasks and a positive scaleTo")', [], 42, 'YOUNGEST_FIRST', [], 42, [], false],
    ['no instances and a target of 0: nothing, done ("given no tasks and scaleTo = 0")', [], 0, 'YOUNGEST_FIRST', [], 0, [], true],
    ['up from 3 to 5 starts 2 ("none are sentenced and need to scale")', three, 5, 'YOUNGEST_FIRST', [], 2, [], false],
    ['to 0 with the default YOUNGEST_FIRST: the youngest first ("scaling to 0")', three, 0, 'YOUNGEST_FIRST', [], 0, ['b', 'c', 'a'], false],
    ['down from 3 to 1, YOUNGEST_FIRST: the latest started go', three, 1, 'YOUNGEST_FIRST', [], 0, ['b', 'c'], false],
    ['down from 3 to 1, OLDEST_FIRST: the earliest started go', three, 1, 'OLDEST_FIRST', [], 0, ['a', 'c'], false],
    ['at the target, all healthy: done', three, 3, 'YOUNGEST_FIRST', [], 0, [], true],
    ['to 0: all go', three, 0, 'OLDEST_FIRST', [], 0, ['a', 'c', 'b'], false],
    ['sentenced instances go first, whatever the selection', three, 2, 'YOUNGEST_FIRST', ['a'], 0, ['a'], false],
    ['sentenced beyond the scale are killed and replaced, kills = max(live − N, sentenced) ("given invalid tasks")', three, 3, 'YOUNGEST_FIRST', ['a', 'c'], 2, ['a', 'c'], false],
    ['a sentenced id that is not there changes nothing ("given already killed tasks")', three, 3, 'YOUNGEST_FIRST', ['zz'], 0, [], true],
    [
      'unreachable, then staging, then failing checks, then healthy: the first ones go first (YOUNGEST_FIRST among equals)',
      [running('ok-old', 1000), running('ok-young', 5000), running('failing', 2000, false), staging('staging', 6000), unreachable('lost', 500)],
      1,
      'YOUNGEST_FIRST',
      [],
      0,
      ['lost', 'staging', 'failing', 'ok-young'],
      false,
    ],
    ['an instance being killed is not counted: a replacement starts at once', [...three.slice(0, 2), killing('c', 2000)], 3, 'YOUNGEST_FIRST', [], 1, [], false],
    ['down to the target with a kill still under way: not done until it ends', [...three.slice(0, 2), killing('c', 2000)], 2, 'YOUNGEST_FIRST', [], 0, [], false],
    ['at the target with one failing its checks: not done', [running('a', 1), running('b', 2, false)], 2, 'YOUNGEST_FIRST', [], 0, [], false],
  ];
  for (const [name, instances, target, killSelection, sentenced, start, kills, done] of table) {
    it(name, () => {
      const decision = nextScalingStep({ target, killSelection, instances, sentenced });
      assert.deepEqual([decision.start, decision.kill, decision.done], [start, kills, done]);
    });
  }

  it('reports progress: healthy instances kept, and instances still to go', () => {
    const decision = nextScalingStep({ target: 1, killSelection: 'OLDEST_FIRST', instances: [running('a', 1), running('b', 2), killing('c', 3)] });
    assert.deepEqual(decision.progress, { available: 1, leftToRemove: 2 });
  });

  it('kill order is stable: equal times fall to the id', () => {
    const same = [running('b', 1), running('a', 1), running('c', 1)];
    assert.deepEqual(killOrder(same, 'YOUNGEST_FIRST').map((i) => i.id), ['a', 'b', 'c']);
    assert.deepEqual(killOrder(same, 'OLDEST_FIRST').map((i) => i.id), ['a', 'b', 'c']);
  });

  it('staging instances go by the time they were staged, by the selection', () => {
    const staged = [staging('early', 1000), staging('late', 2000)];
    assert.deepEqual(killOrder(staged, 'YOUNGEST_FIRST').map((i) => i.id), ['late', 'early']);
    assert.deepEqual(killOrder(staged, 'OLDEST_FIRST').map((i) => i.id), ['early', 'late']);
  });
});
