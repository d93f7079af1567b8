import assert from 'node:assert/strict';
import { deriveOrders, lostOnAgent } from '../../../src/cluster/master/orders.ts';
import { newQueuedTask } from '../../../src/cluster/new-task.ts';
import type { TaskRecord, TaskState } from '../../../src/cluster/types.ts';
import { minimalSpec } from '../../helpers/task-spec.ts';

const allocation = { cpus: 0.1, mem: 64, disk: 0, gpus: 0, ports: [], scalars: {}, ranges: {}, sets: {} };

function task(id: string, state: TaskState, killRequested = false, shutdownDelayMs = 0): TaskRecord {
  const record = newQueuedTask(minimalSpec({ cmd: 'true', killGraceMs: 2500, shutdownDelayMs }), new Date('2026-11-24T00:00:00Z'), id);
  return { ...record, state, agentId: 'a-1', allocation, killRequested, reason: killRequested ? 'killed by user' : null };
}

describe('orders an agent gets on its poll', () => {
  const table: Array<[string, TaskRecord[], string[], string[], string[]?]> = [
    ['nothing assigned, nothing running', [], [], []],
    ['a staged task is launched', [task('t-1', 'staging')], [], ['launch t-1']],
    ['a staged task the agent already has (starting, not yet reported) is not launched again', [task('t-1', 'staging')], ['t-1'], []],
    ['a running task needs nothing', [task('t-1', 'running')], ['t-1'], []],
    ['a kill wins over a launch', [task('t-1', 'staging', true)], [], ['kill t-1 2500ms killed by user']],
    ['a running task to kill', [task('t-1', 'running', true)], ['t-1'], ['kill t-1 2500ms killed by user']],
    ['a task the master declared ended is killed at once', [], ['t-9'], ['kill t-9 0ms the master had already declared the task ended']],
    ['oldest first, then the unexplained', [task('t-1', 'staging'), task('t-2', 'staging')], ['t-9'], ['launch t-1', 'launch t-2', 'kill t-9 0ms the master had already declared the task ended']],
    // Else each poll would come back at once with the same kill, for as long as the task takes to stop.
    ['a task the agent is stopping already gets no second kill', [task('t-1', 'running', true), task('t-2', 'running', true)], ['t-1', 't-2'], ['kill t-2 2500ms killed by user'], ['t-1']],
    ['nor an unexplained one it is stopping', [], ['t-9'], [], ['t-9']],
    // Out of discovery already, a running task finishes what it was sent before its SIGTERM.
    ['a running task with a shutdown delay waits it', [task('t-1', 'running', true, 5000)], ['t-1'], ['kill t-1 2500ms killed by user after 5000ms']],
    ['a staging one does not: it never served', [task('t-1', 'staging', true, 5000)], ['t-1'], ['kill t-1 2500ms killed by user']],
  ];
  for (const [what, assigned, running, expected, killing] of table) {
    it(what, () => {
      const orders = deriveOrders(assigned, running, killing).map((o) => (o.type === 'launch' ? `launch ${o.taskId}` : `kill ${o.taskId} ${o.graceMs}ms ${o.reason}${o.delayMs ? ` after ${o.delayMs}ms` : ''}`));
      assert.deepEqual(orders, expected);
    });
  }
});

describe('tasks an agent no longer has', () => {
  it('are the running ones it does not list; staging ones (their launch may be on its way) are not', () => {
    const assigned = [task('t-1', 'running'), task('t-2', 'running'), task('t-3', 'staging')];
    assert.deepEqual(lostOnAgent(assigned, ['t-2']).map((t) => t.id), ['t-1']);
    assert.deepEqual(lostOnAgent(assigned, ['t-1', 't-2']), []);
  });
});
