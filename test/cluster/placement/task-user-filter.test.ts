// The `user` filter: a task naming a user (TaskSpec.user) lands only on agents that allow it; a task
// naming none goes anywhere, whatever the agents allow.
import assert from 'node:assert/strict';
import { placeTask } from '../../../src/cluster/placement/pipeline.ts';
import type { AgentView } from '../../../src/cluster/types.ts';
import { agent, contextWith, spec } from './helpers.ts';

const withUsers = (view: AgentView, taskUsers?: string[]): AgentView => (taskUsers ? { ...view, taskUsers } : view);

describe('placement: the task user filter', () => {
  const agents = [
    withUsers(agent('plain', 'cpus:4;mem:4096'), ['gantry-task']),
    withUsers(agent('ci', 'cpus:4;mem:4096'), ['gantry-task', 'ci-docker']),
    withUsers(agent('old', 'cpus:4;mem:4096')), // registered before agents said their users
  ];

  it('places a task naming a user only on an agent that allows it', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const result = placeTask(spec({ user: 'ci-docker' }), agents, contextWith(agents, [], seed));
      assert.ok(result.ok);
      assert.equal(result.agent.id, 'ci');
    }
  });

  it('places a task naming no user on any agent', () => {
    const placed = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((seed) => {
      const result = placeTask(spec({}), agents, contextWith(agents, [], seed));
      assert.ok(result.ok);
      return result.agent.id;
    }));
    assert.ok(placed.size > 1, 'not kept to one agent');
  });

  it('says why a task waits when no agent allows its user', () => {
    const result = placeTask(spec({ user: 'root' }), agents, contextWith(agents));
    assert.ok(!result.ok);
    assert.equal(result.reason, '3 agents: 3 did not allow user root');
  });
});
