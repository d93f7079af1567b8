import assert from 'node:assert/strict';
import { placeTask } from '../../../src/cluster/placement/pipeline.ts';
import { binpackRanker } from '../../../src/cluster/placement/rankers/binpack.ts';
import { spreadRanker } from '../../../src/cluster/placement/rankers/spread.ts';
import type { RankerName } from '../../../src/cluster/types.ts';
import { agent, contextWith, spec } from './helpers.ts';

// Free after placing a 1-cpu / 1024-MiB task on 8-cpu / 8192-MiB agents: a: 7/8, b: 3/8, c: 1/8.
const AGENTS = [
  agent('empty', 'cpus:8;mem:8192'),
  agent('half', 'cpus:8;mem:8192', '', { free: 'cpus:4;mem:4096' }),
  agent('fullest-fit', 'cpus:8;mem:8192', '', { free: 'cpus:2;mem:2048' }),
  agent('too-full', 'cpus:8;mem:8192', '', { free: 'cpus:0.5;mem:512' }),
];

describe('rankers', () => {
  const choices: Array<[RankerName, string]> = [
    ['binpack', 'fullest-fit'],
    ['spread', 'empty'],
  ];
  for (const [strategy, expected] of choices) {
    for (const seed of [1, 2, 3, 4, 5]) {
      it(`${strategy} picks ${expected} (visiting order seed ${seed})`, () => {
        const result = placeTask(spec({ cpus: 1, mem: 1024, strategy }), AGENTS, contextWith(AGENTS, [], seed), { maxCandidates: Infinity });
        assert.ok(result.ok);
        assert.equal(result.agent.id, expected);
      });
    }
  }

  it('the strategy in the options applies when the task names none, and the task\'s wins', () => {
    const ctx = contextWith(AGENTS);
    const viaOptions = placeTask(spec({ cpus: 1, mem: 1024 }), AGENTS, ctx, { strategy: 'spread', maxCandidates: Infinity });
    assert.ok(viaOptions.ok && viaOptions.agent.id === 'empty');
    const viaTask = placeTask(spec({ cpus: 1, mem: 1024, strategy: 'binpack' }), AGENTS, ctx, { strategy: 'spread', maxCandidates: Infinity });
    assert.ok(viaTask.ok && viaTask.agent.id === 'fullest-fit');
  });

  it('random is reproducible with a seeded rng and reaches every feasible agent', () => {
    const pick = (seed: number): string => {
      const r = placeTask(spec({ cpus: 1, strategy: 'random' }), AGENTS, contextWith(AGENTS, [], seed), { maxCandidates: Infinity });
      assert.ok(r.ok);
      return r.agent.id;
    };
    const seeds = Array.from({ length: 40 }, (_, i) => i + 1);
    assert.deepEqual(seeds.map(pick), seeds.map(pick));
    assert.deepEqual(new Set(seeds.map(pick)), new Set(['empty', 'half', 'fullest-fit']));
  });

  // Free shares after placement → Nomad's scores over 18.
  const scores: Array<[string, string, number, number]> = [
    ['exactly full after placement', 'cpus:1;mem:1024', 1, 0],
    ['empty after placement (a task of nothing)', 'cpus:8;mem:8192', 0, 1],
    ['half free', 'cpus:5;mem:5120', (20 - 2 * 10 ** 0.5) / 18, (2 * 10 ** 0.5 - 2) / 18],
  ];
  for (const [name, free, binpack, spread] of scores) {
    it(`scores ${name}: binpack ${binpack.toFixed(3)}, spread ${spread.toFixed(3)}`, () => {
      const a = agent('a', 'cpus:8;mem:8192', '', { free });
      const task = free === 'cpus:8;mem:8192' ? spec() : spec({ cpus: 1, mem: 1024 });
      const ctx = contextWith([a]);
      assert.ok(Math.abs(binpackRanker.score(a, task, ctx) - binpack) < 1e-9);
      assert.ok(Math.abs(spreadRanker.score(a, task, ctx) - spread) < 1e-9);
    });
  }

  it('weighs several rankers', () => {
    const ctx = contextWith(AGENTS);
    const result = placeTask(spec({ cpus: 1, mem: 1024 }), AGENTS, ctx, {
      maxCandidates: Infinity,
      rankers: [
        { ranker: binpackRanker, weight: 1 },
        { ranker: spreadRanker, weight: 3 },
      ],
    });
    assert.ok(result.ok && result.agent.id === 'empty');
  });

  describe('spreadGroup: a soft spread of a group over agents', () => {
    const three = [agent('a', 'cpus:8;mem:8192'), agent('b', 'cpus:8;mem:8192'), agent('c', 'cpus:8;mem:8192', '', { free: 'cpus:6;mem:6144' })];

    for (const seed of [1, 2, 3, 4, 5, 6]) {
      it(`prefers an agent without the group over a better-packed one beside it, and scores every agent (seed ${seed})`, () => {
        // binpack alone would choose c (the fullest); a and c run one task of g each.
        const result = placeTask(spec({ cpus: 1, mem: 1024, spreadGroup: true }), three, contextWith(three, ['a', 'c'], seed));
        assert.ok(result.ok);
        assert.equal(result.agent.id, 'b');
      });
    }

    it('goes beside the fewest of its group when every agent has some, and beside one when nowhere else fits (no UNIQUE)', () => {
      const crowded = placeTask(spec({ cpus: 1, mem: 1024, spreadGroup: true }), three, contextWith(three, ['a', 'a', 'b', 'c', 'c']));
      assert.ok(crowded.ok && crowded.agent.id === 'b');
      const onlyA = [three[0]!];
      const beside = placeTask(spec({ cpus: 1, mem: 1024, spreadGroup: true }), onlyA, contextWith(onlyA, ['a']));
      assert.ok(beside.ok && beside.agent.id === 'a', 'a rolling upgrade\'s extra instance still lands');
    });

    it('counts only its own group', () => {
      const result = placeTask(spec({ cpus: 1, mem: 1024, spreadGroup: true, group: 'web' }), three, contextWith(three, [['web', 'a'], ['web', 'b'], ['db', 'c']]));
      assert.ok(result.ok && result.agent.id === 'c');
    });
  });
});
