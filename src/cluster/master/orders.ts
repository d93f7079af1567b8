// What an agent must do, derived from what the store says of its tasks and what the agent says it
// runs. Derived on every poll rather than queued, so an order lost in transit is simply sent again.
import type { KillOrder, LaunchOrder } from '../protocol.ts';
import type { TaskRecord } from '../types.ts';

/**
 * `assigned`: the agent's staging and running tasks, oldest first. `runningOnAgent`: the tasks the agent
 * has, running or being started; a staging task among them gets no second launch order (a poll during a
 * burst of launches would otherwise return them all again). `killingOnAgent`: those it is stopping
 * already; they get no second kill order (likewise, while they take their grace period to stop).
 */
export function deriveOrders(assigned: readonly TaskRecord[], runningOnAgent: readonly string[], killingOnAgent: readonly string[] = []): Array<LaunchOrder | KillOrder> {
  const known = new Set(runningOnAgent);
  const killing = new Set(killingOnAgent);
  const unexplained = new Set(runningOnAgent);
  const orders: Array<LaunchOrder | KillOrder> = [];
  for (const task of assigned) {
    unexplained.delete(task.id);
    if (task.killRequested) {
      if (killing.has(task.id)) continue;
      const delayMs = task.state === 'running' ? (task.spec.shutdownDelayMs ?? 0) : 0;
      orders.push({ type: 'kill', taskId: task.id, graceMs: task.spec.killGraceMs, reason: task.reason ?? 'killed', ...(delayMs > 0 ? { delayMs } : {}) });
    } else if (task.state === 'staging' && task.allocation && !known.has(task.id)) {
      orders.push({ type: 'launch', taskId: task.id, spec: task.spec, allocation: task.allocation });
    }
  }
  // The agent runs tasks the master considers ended (lost while the agent was unreachable): stop them.
  for (const taskId of unexplained) {
    if (killing.has(taskId)) continue;
    orders.push({ type: 'kill', taskId, graceMs: 0, reason: 'the master had already declared the task ended' });
  }
  return orders;
}

/**
 * The agent's tasks the master has as running but the agent does not have (neither running nor being
 * started): they ended while no master listened (a master restart) without a report, or the agent lost
 * them. An agent lists a task from the moment it is told to start it until its final report was
 * accepted, and polls one at a time, so a running task missing from a poll is gone.
 */
export function lostOnAgent(assigned: readonly TaskRecord[], runningOnAgent: readonly string[]): TaskRecord[] {
  const known = new Set(runningOnAgent);
  return assigned.filter((task) => task.state === 'running' && !known.has(task.id));
}
