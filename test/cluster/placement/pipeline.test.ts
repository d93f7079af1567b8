import assert from 'node:assert/strict';
import { defaultMaxCandidates, placeTask } from '../../../src/cluster/placement/pipeline.ts';
import { seededRng } from '../../../src/cluster/placement/seeded-rng.ts';
import type { Ranker } from '../../../src/cluster/placement/types.ts';
import { visitOrder } from '../../../src/cluster/placement/visit-order.ts';
import { placementContext } from '../../../src/cluster/placement/context.ts';
import type { AgentView } from '../../../src/cluster/types.ts';
import { agent, contextWith, spec } from './helpers.ts';

describe('placeTask: the waiting reason', () => {
  it('says when there are no agents', () => {
    const result = placeTask(spec({ cpus: 1 }), [], contextWith([]));
    assert.deepEqual(result, { ok: false, reason: 'no agents registered', rejections: [] });
  });

  const table: Array<[string, AgentView[], Parameters<typeof spec>[0], string[], string]> = [
    [
      'the example sentence',
      [agent('a1', 'cpus:4;mem:256'), agent('a2', 'cpus:4;mem:128'), agent('a3', 'cpus:4;mem:4096')],
      { mem: 512, constraints: ['hostname:UNIQUE'] },
      ['a3'],
      '3 agents: 2 lacked mem (need 512, max free 256), 1 failed hostname:UNIQUE',
    ],
    ['one agent', [agent('a1', 'cpus:2')], { cpus: 4 }, [], '1 agent: 1 lacked cpus (need 4, max free 2)'],
    [
      'ties are listed in pipeline order (resources before constraints)',
      [agent('a1', 'mem:4096', 'zone:east'), agent('a2', 'mem:100', 'zone:west')],
      { mem: 512, constraints: ['zone:IS:west'] },
      [],
      '2 agents: 1 lacked mem (need 512, max free 100), 1 failed zone:IS:west',
    ],
    [
      'ports: specific and any',
      [agent('a1', 'ports:[31000-31000]'), agent('a2', 'ports:[8080-8080]')],
      { ports: [8080, 0] },
      [],
      '2 agents: 1 lacked port 8080, 1 lacked ports (need 1, max free 0)',
    ],
    [
      'the most common reason first',
      [agent('a1', 'cpus:1'), agent('a2', 'cpus:8', 'rack:r1'), agent('a3', 'cpus:8', 'rack:r2'), agent('a4', 'cpus:8')],
      { cpus: 2, constraints: ['rack:LIKE:r9'] },
      [],
      '4 agents: 3 failed rack:LIKE:r9, 1 lacked cpus (need 2, max free 1)',
    ],
  ];
  for (const [name, agents, ask, placed, reason] of table) {
    it(`${name}: "${reason}"`, () => {
      for (const seed of [1, 2, 3]) {
        const result = placeTask(spec(ask), agents, contextWith(agents, placed, seed));
        assert.ok(!result.ok);
        assert.equal(result.reason, reason);
        assert.equal(result.rejections.reduce((n, r) => n + r.count, 0), agents.length);
      }
    });
  }

  it('counts every agent of a large pool when none fits', () => {
    const agents = Array.from({ length: 500 }, (_, i) => agent(`a${i}`, i % 5 === 0 ? 'cpus:1;mem:64' : 'cpus:1;mem:8192'));
    const result = placeTask(spec({ cpus: 2, mem: 128 }), agents, contextWith(agents));
    assert.ok(!result.ok);
    assert.equal(result.reason, '500 agents: 500 lacked cpus (need 2, max free 1)');
  });
});

describe('placeTask: sampling', () => {
  const countingRanker = (): Ranker & { calls: number } => {
    const r = { name: 'counting', calls: 0, score: () => (r.calls++, 0.5) };
    return r;
  };
  const pool = Array.from({ length: 1000 }, (_, i) => agent(`a${i}`, 'cpus:8;mem:8192'));

  const limits: Array<[number | undefined, number]> = [
    [undefined, 10],
    [3, 3],
    [Infinity, 1000],
  ];
  for (const [maxCandidates, scored] of limits) {
    it(`scores ${scored} of 1000 feasible agents with maxCandidates ${maxCandidates ?? 'default'}`, () => {
      const ranker = countingRanker();
      const result = placeTask(spec({ cpus: 1 }), pool, contextWith(pool), { rankers: [{ ranker, weight: 1 }], maxCandidates });
      assert.ok(result.ok);
      assert.equal(ranker.calls, scored);
    });
  }

  it('finds the few feasible agents however far they are', () => {
    const agents = pool.map((a, i) => (i === 777 ? agent('big', 'cpus:64;mem:65536') : a));
    for (const seed of [1, 2, 3, 4]) {
      const result = placeTask(spec({ cpus: 32 }), agents, contextWith(agents, [], seed));
      assert.ok(result.ok && result.agent.id === 'big');
    }
  });

  it('starts at different agents for different rng draws', () => {
    const first = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) {
      const result = placeTask(spec({ cpus: 1, strategy: 'binpack' }), pool, contextWith(pool, [], seed), { maxCandidates: 1 });
      assert.ok(result.ok);
      first.add(result.agent.id);
    }
    assert.ok(first.size > 10, `only ${first.size} distinct agents`);
  });

  const sizes: Array<[number, number]> = [
    [1, 2],
    [2, 2],
    [5, 3],
    [1000, 10],
    [5000, 13],
  ];
  for (const [n, limit] of sizes) {
    it(`default candidates for ${n} agents: ${limit}`, () => assert.equal(defaultMaxCandidates(n), limit));
  }

  for (const n of [1, 2, 3, 10, 12, 97, 360, 1024]) {
    it(`the visiting order walks each of ${n} agents exactly once`, () => {
      const rng = seededRng(n);
      for (let round = 0; round < 5; round++) {
        const { start, stride } = visitOrder(n, rng);
        const seen = new Set<number>();
        for (let i = 0, at = start; i < n; i++, at = (at + stride) % n) seen.add(at);
        assert.equal(seen.size, n);
      }
    });
  }
});

describe('placeTask: agents holding the image win ties', () => {
  const agents = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8'].map((id) => agent(id, 'cpus:4;mem:4096'));
  const images = (holders: Record<string, string[]>) => new Map(Object.entries(holders).map(([id, names]) => [id, new Set(names)]));

  it('places a task on the agent that holds its image when every agent scores the same', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const ctx = placementContext(agents, seededRng(seed), undefined, images({ a6: ['registry.local:5000/team/app:v1', 'busybox:latest'] }));
      const result = placeTask(spec({ image: 'registry.local:5000/team/app:v1', cpus: 1 }), agents, ctx, { maxCandidates: Infinity });
      assert.ok(result.ok);
      assert.equal(result.agent.id, 'a6', `seed ${seed}`);
      // Docker Hub names are matched as the engine lists them.
      const hub = placeTask(spec({ image: 'docker.io/library/busybox', cpus: 1 }), agents, ctx, { maxCandidates: Infinity });
      assert.ok(hub.ok);
      assert.equal(hub.agent.id, 'a6', `seed ${seed}`);
    }
  });

  it('does not let the image outweigh a better score, nor steer tasks without an image', () => {
    const loaded = [agent('busy', 'cpus:4;mem:4096', '', { free: 'cpus:1;mem:1024' }), agent('idle', 'cpus:4;mem:4096')];
    const ctx = placementContext(loaded, seededRng(3), undefined, images({ idle: ['app:v1'] }));
    // binpack prefers the fuller agent, though only the idle one holds the image.
    const result = placeTask(spec({ image: 'app:v1', cpus: 0.5, mem: 64 }), loaded, ctx, { maxCandidates: Infinity });
    assert.ok(result.ok);
    assert.equal(result.agent.id, 'busy');
    const picks = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) {
      const plain = placeTask(spec({ cpus: 1 }), agents, placementContext(agents, seededRng(seed), undefined, images({ a6: ['app:v1'] })), { maxCandidates: Infinity });
      if (plain.ok) picks.add(plain.agent.id);
    }
    assert.ok(picks.size > 1, 'a task without an image is not drawn to the image holder');
  });
});
