import assert from 'node:assert/strict';
import { ClusterState } from '../../../src/cluster/placement/cluster-state.ts';
import { seededRng } from '../../../src/cluster/placement/seeded-rng.ts';
import { formatResources, parseAttributes, parseResources } from '../../../src/cluster/resources/parse.ts';
import type { TaskSpec } from '../../../src/cluster/types.ts';
import { spec } from './helpers.ts';

function pool(agents: Array<[id: string, resources: string, attributes?: string]>): ClusterState {
  const state = new ClusterState({ rng: seededRng(7) });
  for (const [id, resources, attributes = ''] of agents) state.upsertAgent(id, `${id}.example`, parseAttributes(attributes), parseResources(resources));
  return state;
}

/** Places and commits like the master does; returns the agent id or the waiting reason. */
function run(state: ClusterState, taskId: string, task: TaskSpec): string {
  const result = state.place(task);
  if (!result.ok) return result.reason;
  state.commit(taskId, result.agent.id, task.group, result.allocation);
  return result.agent.id;
}

const free = (state: ClusterState, id: string): string => formatResources(state.agentView(id)!.free);

describe('ClusterState', () => {
  it('commit takes resources, release gives them back; place changes nothing', () => {
    const state = pool([['a1', 'cpus:4;mem:4096;ports:[31000-31009]']]);
    const result = state.place(spec({ cpus: 1, mem: 1024, ports: [0] }));
    assert.ok(result.ok);
    assert.equal(free(state, 'a1'), 'cpus:4;mem:4096;ports:[31000-31009]');
    const before = state.agentView('a1')!;
    state.commit('t1', 'a1', 'g', result.allocation);
    assert.equal(free(state, 'a1'), 'cpus:3;mem:3072;ports:[31001-31009]');
    assert.equal(formatResources(before.free), 'cpus:4;mem:4096;ports:[31000-31009]', 'earlier snapshots do not change');
    assert.ok(state.hasTask('t1'));
    assert.equal(state.taskCount('a1'), 1);
    assert.ok(state.release('t1'));
    assert.ok(!state.release('t1'));
    assert.equal(free(state, 'a1'), 'cpus:4;mem:4096;ports:[31000-31009]');
    assert.equal(state.taskCount('a1'), 0);
  });

  it('hostname:UNIQUE counts committed tasks of the same group only', () => {
    const state = pool([['a1', 'cpus:4'], ['a2', 'cpus:4']]);
    const unique = spec({ cpus: 1, group: 'web', constraints: ['hostname:UNIQUE'] });
    const first = run(state, 't1', unique);
    const second = run(state, 't2', unique);
    assert.deepEqual([first, second].sort(), ['a1', 'a2']);
    assert.equal(run(state, 't3', unique), '2 agents: 2 failed hostname:UNIQUE');
    assert.match(run(state, 't4', { ...unique, group: 'api' }), /^a[12]$/);
    state.release('t1');
    assert.equal(run(state, 't5', unique), first);
  });

  it('rack:GROUP_BY spreads six tasks 2-2-2 over three racks', () => {
    const state = pool([['a', 'cpus:8', 'rack:r1'], ['b', 'cpus:8', 'rack:r2'], ['c', 'cpus:8', 'rack:r3']]);
    const perAgent = new Map<string, number>();
    for (let i = 0; i < 6; i++) {
      const id = run(state, `t${i}`, spec({ cpus: 0.1, group: 'by-rack', constraints: ['rack:GROUP_BY'] }));
      perAgent.set(id, (perAgent.get(id) ?? 0) + 1);
    }
    assert.deepEqual([...perAgent.values()], [2, 2, 2]);
  });

  it('rebuilds from agents and active tasks (upsertAgent + commit) to the same free resources', () => {
    const live = pool([['a1', 'cpus:4;mem:4096;ports:[1-10]'], ['a2', 'cpus:2;mem:2048;ports:[1-10]']]);
    const tasks: Array<[string, string, ReturnType<typeof live.place>]> = [];
    for (let i = 0; i < 5; i++) {
      const task = spec({ cpus: 1, mem: 512, ports: [0] });
      const result = live.place(task);
      assert.ok(result.ok);
      live.commit(`t${i}`, result.agent.id, task.group, result.allocation);
      tasks.push([`t${i}`, result.agent.id, result]);
    }
    const rebuilt = pool([['a1', 'cpus:4;mem:4096;ports:[1-10]'], ['a2', 'cpus:2;mem:2048;ports:[1-10]']]);
    for (const [id, agentId, result] of tasks) if (result.ok) rebuilt.commit(id, agentId, 'g', result.allocation);
    for (const id of ['a1', 'a2']) assert.equal(free(rebuilt, id), free(live, id));
  });

  it('re-registering an agent keeps its committed tasks accounted', () => {
    const state = pool([['a1', 'cpus:4;mem:4096']]);
    const r = state.place(spec({ cpus: 3 }));
    assert.ok(r.ok);
    state.commit('t1', 'a1', 'g', r.allocation);
    state.upsertAgent('a1', 'a1.example', {}, parseResources('cpus:8;mem:4096'));
    assert.equal(free(state, 'a1'), 'cpus:5;mem:4096');
  });

  it('a removed agent takes no tasks; its tasks count until released', () => {
    const state = pool([['a1', 'cpus:4'], ['a2', 'cpus:4']]);
    const unique = spec({ cpus: 1, constraints: ['hostname:UNIQUE'] });
    const on = run(state, 't1', unique);
    const other = on === 'a1' ? 'a2' : 'a1';
    assert.ok(state.removeAgent(on));
    assert.ok(!state.removeAgent(on));
    assert.equal(state.agentView(on), undefined);
    assert.deepEqual(state.agents().map((a) => a.id), [other]);
    assert.equal(run(state, 't2', spec({ cpus: 1 })), other);
    // Back with the same hostname while t1 still counts: UNIQUE keeps it off.
    state.upsertAgent(on, `${on}.example`, {}, parseResources('cpus:4'));
    assert.equal(free(state, on), 'cpus:3');
    assert.equal(run(state, 't3', unique), '2 agents: 2 failed hostname:UNIQUE');
    assert.ok(state.release('t1'));
    assert.equal(run(state, 't4', unique), on);
  });

  it('placement sees what commits and releases left free', () => {
    const state = pool([['a1', 'cpus:2;mem:1024']]);
    assert.equal(run(state, 't1', spec({ cpus: 1.5, mem: 512 })), 'a1');
    assert.equal(run(state, 't2', spec({ cpus: 1 })), '1 agent: 1 lacked cpus (need 1, max free 0.5)');
    assert.equal(run(state, 't3', spec({ mem: 600 })), '1 agent: 1 lacked mem (need 600, max free 512)');
    state.release('t1');
    assert.equal(run(state, 't4', spec({ cpus: 2, mem: 1024 })), 'a1');
  });

  it('keeps placing right after agents leave and join in any order', () => {
    const state = pool([['small', 'cpus:1'], ['medium', 'cpus:4'], ['large', 'cpus:16']]);
    assert.ok(state.removeAgent('small'));
    assert.equal(run(state, 't1', spec({ cpus: 12 })), 'large');
    assert.ok(state.removeAgent('large'));
    assert.equal(run(state, 't2', spec({ cpus: 12 })), '1 agent: 1 lacked cpus (need 12, max free 4)');
    state.upsertAgent('huge', 'huge', {}, parseResources('cpus:64'));
    assert.equal(run(state, 't3', spec({ cpus: 12 })), 'huge');
    for (let i = 0; i < 100; i++) state.upsertAgent(`tiny-${i}`, `tiny-${i}`, {}, parseResources('cpus:1'));
    assert.equal(run(state, 't4', spec({ cpus: 40 })), 'huge');
    assert.equal(run(state, 't5', spec({ cpus: 40 })), '102 agents: 102 lacked cpus (need 40, max free 12)');
  });

  it('committing the same task again replaces its allocation', () => {
    const state = pool([['a1', 'cpus:4']]);
    const r = state.place(spec({ cpus: 1 }));
    assert.ok(r.ok);
    state.commit('t1', 'a1', 'g', r.allocation);
    state.commit('t1', 'a1', 'g', r.allocation);
    assert.equal(free(state, 'a1'), 'cpus:3');
    assert.equal(state.taskCount('a1'), 1);
  });

  it('uses the default strategy given at construction', () => {
    const state = new ClusterState({ rng: seededRng(1), defaultStrategy: 'spread', maxCandidates: Infinity });
    state.upsertAgent('busy', 'busy', {}, parseResources('cpus:8;mem:8192'));
    state.upsertAgent('idle', 'idle', {}, parseResources('cpus:8;mem:8192'));
    state.commit('t0', 'busy', 'g', { cpus: 4, mem: 4096, disk: 0, gpus: 0, ports: [], scalars: {}, ranges: {}, sets: {} });
    const r = state.place(spec({ cpus: 1, mem: 512 }));
    assert.ok(r.ok && r.agent.id === 'idle');
  });

  describe('fitsAnyAgentTotal', () => {
    const state = pool([
      ['small', 'cpus:2;mem:8192;ports:[31000-31001]'],
      ['big', 'cpus:16;mem:2048;gpus:1;ports:[31000-31004];licenses:2'],
    ]);
    const table: Array<[Parameters<typeof spec>[0], string | null]> = [
      [{ cpus: 2, mem: 1024 }, null],
      [{ cpus: 16 }, null],
      [{ cpus: 64 }, 'no agent has 64 cpus (largest: 16)'],
      [{ mem: 10000 }, 'no agent has 10000 mem (largest: 8192)'],
      [{ gpus: 2 }, 'no agent has 2 gpus (largest: 1)'],
      [{ disk: 1 }, 'no agent has 1 disk (largest: 0)'],
      [{ ports: [80] }, 'no agent offers port 80'],
      [{ ports: [0, 0, 0, 0, 0, 0] }, 'no agent has 6 ports (largest: 5)'],
      [{ resources: { fpgas: 1 } }, 'no agent offers fpgas'],
      [{ resources: { licenses: 3 } }, 'no agent has 3 licenses (largest: 2)'],
      [{ cpus: 8, mem: 4096 }, 'no agent has 8 cpus and 4096 mem together'],
      [{ cpus: 1, mem: 4096, gpus: 1 }, 'no agent has 1 cpus, 4096 mem and 1 gpus together'],
    ];
    for (const [ask, expected] of table) {
      it(`${JSON.stringify(ask)} → ${expected ?? 'fits'}`, () => {
        // Resources in use do not matter: the check is against totals.
        assert.equal(state.fitsAnyAgentTotal(spec(ask)), expected);
      });
    }
  });
});
