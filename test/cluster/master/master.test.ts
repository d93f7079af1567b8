// The master as agents and users meet it, with time in the test's hands (ManualTime as its clock and
// timers, a real SQLite store, agents played through master.register / pollOrders / reportStatus):
// a task waits saying why until an agent can take it; an agent silent for longer than the heartbeat
// timeout loses its running tasks at the heartbeat check that sees it, not a millisecond of silence
// earlier; a drained agent gets nothing new and is told to stop its tasks and leave.
import assert from 'node:assert/strict';
import { DRAIN_REASON } from '../../../src/cluster/protocol.ts';
import type { TaskRecord } from '../../../src/cluster/types.ts';
import { ScriptedAgent, startTestMaster, taskWhere, type TestMaster } from '../../helpers/in-process-master.ts';
import { ManualTime } from '../../helpers/manual-time.ts';

const T0 = Date.parse('2026-03-02T09:00:00.000Z');
const HEARTBEAT_TIMEOUT_MS = 30_000;
/** The master checks heartbeats every quarter of the timeout (Master.start). */
const CHECK_EVERY_MS = HEARTBEAT_TIMEOUT_MS / 4;

describe('Master, timed by the test', function () {
  this.timeout(20_000);
  let time: ManualTime;
  let pool: TestMaster;

  beforeEach(async () => {
    time = new ManualTime(new Date(T0));
    pool = await startTestMaster(time, { heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS });
  });
  afterEach(async () => pool.close());

  const submit = (owner: string, extra: Record<string, unknown> = {}): Promise<TaskRecord> => pool.cluster.submit(owner, { cmd: 'true', cpus: 1, mem: 128, ...extra });
  const state = async (taskId: string): Promise<string> => (await pool.master.getTask(taskId)).state;

  it('keeps a task queued with its reason while no agent is registered, and stages it on the first agent that registers', async () => {
    const task = await submit('user:alice');
    const waiting = await taskWhere(pool.master, task.id, (t) => t.waitingReason !== null);
    assert.equal(waiting.state, 'queued');
    assert.equal(waiting.waitingReason, 'no agents registered');
    assert.equal((await pool.master.getTask(task.id)).waitingReason, 'no agents registered', 'the reason is stored, for the API');

    const agent = await ScriptedAgent.register(pool.master, 'worker-1');
    const staged = await taskWhere(pool.master, task.id, (t) => t.state === 'staging');
    assert.equal(staged.agentId, agent.id);
    const orders = await agent.pollAndStart();
    assert.deepEqual(orders.map((o) => [o.type, 'taskId' in o ? o.taskId : null]), [['launch', task.id]]);
    assert.equal(await state(task.id), 'running');
    await agent.finish(task.id);
    assert.equal(await state(task.id), 'finished');
  });

  it('loses the running tasks of an agent silent for longer than the heartbeat timeout, and not those of one silent for exactly the timeout', async () => {
    const late = await ScriptedAgent.register(pool.master, 'late');
    const punctual = await ScriptedAgent.register(pool.master, 'punctual');
    const onLate = await submit('user:a', { constraints: ['hostname:IS:late'] });
    const onPunctual = await submit('user:b', { constraints: ['hostname:IS:punctual'] });
    await taskWhere(pool.master, onLate.id, (t) => t.state === 'staging');
    await taskWhere(pool.master, onPunctual.id, (t) => t.state === 'staging');
    await late.pollAndStart();
    await punctual.pollAndStart();
    assert.equal(await state(onLate.id), 'running');
    assert.equal(await state(onPunctual.id), 'running');

    // Last heartbeats: `late` 1 ms before a check, `punctual` at it.
    await time.advanceTo(T0 + CHECK_EVERY_MS - 1);
    await late.poll();
    await time.advanceTo(T0 + CHECK_EVERY_MS);
    await punctual.poll();
    const lostAt: number[] = [];
    pool.master.events.on('task', ({ task }: { task: TaskRecord }) => void (task.state === 'lost' && lostAt.push(time.ms)));

    // The check at T0 + 5 quarters: `late` has been silent for the timeout + 1 ms, `punctual` for the timeout.
    await time.advanceTo(T0 + CHECK_EVERY_MS - 1 + HEARTBEAT_TIMEOUT_MS);
    assert.equal(await state(onLate.id), 'running', 'silent for exactly the timeout: still running');
    assert.equal((await pool.master.findAgent(late.id))?.state, 'ready');
    await time.advance(1);
    const lost = await pool.master.getTask(onLate.id);
    assert.equal(lost.state, 'lost');
    assert.equal(lost.reason, `agent ${late.id} unreachable (no heartbeat for 30s)`);
    assert.deepEqual(lostAt, [T0 + CHECK_EVERY_MS + HEARTBEAT_TIMEOUT_MS], 'lost at the check, the first moment it was silent for longer than the timeout');
    assert.equal((await pool.master.findAgent(late.id))?.state, 'unreachable');
    assert.equal(await state(onPunctual.id), 'running', 'silent for exactly the timeout at that check');
    assert.equal((await pool.master.findAgent(punctual.id))?.state, 'ready');
  });

  it('declares a silent agent unreachable at the first heartbeat check after its timeout, a quarter of the timeout late at most', async () => {
    const agent = await ScriptedAgent.register(pool.master, 'worker-1');
    const task = await submit('user:alice');
    await taskWhere(pool.master, task.id, (t) => t.state === 'staging');
    await agent.pollAndStart();
    // The last heartbeat just after a check: the longest wait for the next one after the timeout.
    const lastHeard = T0 + CHECK_EVERY_MS + 1;
    await time.advanceTo(lastHeard);
    await agent.poll();
    const lostAt: number[] = [];
    pool.master.events.on('task', ({ task: t }: { task: TaskRecord }) => void (t.id === task.id && t.state === 'lost' && lostAt.push(time.ms)));

    await time.advanceTo(lastHeard + HEARTBEAT_TIMEOUT_MS + 1);
    assert.equal(await state(task.id), 'running', 'past the timeout, but no check has looked yet');
    await time.advanceTo(lastHeard + HEARTBEAT_TIMEOUT_MS + CHECK_EVERY_MS);
    assert.equal(await state(task.id), 'lost');
    assert.deepEqual(lostAt, [T0 + 6 * CHECK_EVERY_MS], 'at the check after the timeout');
    assert.ok(lostAt[0]! - lastHeard <= HEARTBEAT_TIMEOUT_MS + CHECK_EVERY_MS);
  });

  it('tells an agent that comes back after it was declared unreachable to kill the tasks it still runs, and places on it again', async () => {
    const agent = await ScriptedAgent.register(pool.master, 'worker-1');
    const task = await submit('user:alice');
    await taskWhere(pool.master, task.id, (t) => t.state === 'staging');
    await agent.pollAndStart();
    await time.advance(HEARTBEAT_TIMEOUT_MS + CHECK_EVERY_MS);
    assert.equal(await state(task.id), 'lost');

    // Its network comes back: it still runs the task and says so in its poll.
    const orders = await agent.poll();
    assert.deepEqual(orders, [{ type: 'kill', taskId: task.id, graceMs: 0, reason: 'the master had already declared the task ended' }]);
    assert.equal(await state(task.id), 'lost', 'a lost task does not come back to life');
    assert.equal((await pool.master.findAgent(agent.id))?.state, 'ready');
    await agent.report({ taskId: task.id, state: 'killed' });
    assert.equal(await state(task.id), 'lost', 'its late report changes nothing');

    const next = await submit('user:alice');
    const staged = await taskWhere(pool.master, next.id, (t) => t.state === 'staging');
    assert.equal(staged.agentId, agent.id);
  });

  it('places nothing on a drained agent; its poll stops its tasks and tells it to leave; it is ready again once it registers', async () => {
    const drained = await ScriptedAgent.register(pool.master, 'drained');
    const other = await ScriptedAgent.register(pool.master, 'other');
    const running = await submit('user:a', { constraints: ['hostname:IS:drained'] });
    const killed = await submit('user:b', { constraints: ['hostname:IS:drained'] });
    await taskWhere(pool.master, running.id, (t) => t.state === 'staging');
    await taskWhere(pool.master, killed.id, (t) => t.state === 'staging');
    await drained.pollAndStart();
    await pool.master.kill(killed.id, 'not wanted any more');
    // Staged on it, never launched there: the agent has not polled since.
    const staged = await submit('user:c', { constraints: ['hostname:IS:drained'] });
    await taskWhere(pool.master, staged.id, (t) => t.state === 'staging');

    const record = await pool.master.drainAgent(drained.id);
    assert.equal(record.state, 'draining');
    assert.equal((await pool.master.findAgent(drained.id))?.state, 'draining');

    // A task only the drained agent could take waits; one any agent can take goes to the other.
    const wantsDrained = await submit('user:d', { constraints: ['hostname:IS:drained'] });
    const waiting = await taskWhere(pool.master, wantsDrained.id, (t) => t.waitingReason !== null);
    assert.equal(waiting.state, 'queued');
    assert.match(waiting.waitingReason!, /^1 agent: /, 'the drained agent is not even considered');
    const anywhere = await submit('user:e');
    assert.equal((await taskWhere(pool.master, anywhere.id, (t) => t.state === 'staging')).agentId, other.id);

    const orders = await drained.poll();
    assert.deepEqual(orders, [{ type: 'kill', taskId: killed.id, graceMs: killed.spec.killGraceMs, reason: 'not wanted any more' }, { type: 'drain' }], 'the kill first, then the drain; no launch');
    const notStarted = await pool.master.getTask(staged.id);
    assert.equal(notStarted.state, 'lost', 'nothing to stop: its owner need not wait for the agent');
    assert.equal(notStarted.reason, DRAIN_REASON);
    // The agent stops what it runs as the drain asks: lost (its owner replaces it); the killed one as killed.
    await drained.report({ taskId: killed.id, state: 'killed' });
    await drained.report({ taskId: running.id, state: 'lost', reason: DRAIN_REASON });
    assert.equal(await state(killed.id), 'killed');
    assert.equal(await state(running.id), 'lost');
    assert.equal((await pool.master.getTask(running.id)).reason, DRAIN_REASON);
    assert.deepEqual(await drained.poll(), [{ type: 'drain' }], 'told to leave until it does');
    assert.equal(await state(wantsDrained.id), 'queued');

    // It leaves (its process exits): past the heartbeat timeout it is gone, not unreachable.
    await time.advance(HEARTBEAT_TIMEOUT_MS + CHECK_EVERY_MS);
    assert.equal((await pool.master.findAgent(drained.id))?.state, 'gone');
    assert.equal((await pool.master.findAgent(other.id))?.state, 'unreachable', 'an agent not drained that falls silent is unreachable');

    // Its process starts again and registers: it takes work again.
    await drained.registerAgain();
    assert.equal((await pool.master.findAgent(drained.id))?.state, 'ready');
    const placed = await taskWhere(pool.master, wantsDrained.id, (t) => t.state === 'staging');
    assert.equal(placed.agentId, drained.id);
  });
});
