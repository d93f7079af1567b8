// An agent's poll: its heartbeat and the delivery of its orders in one long poll. The orders are
// derived from the store each time (orders.ts), so a lost answer costs nothing; a task the agent
// should run but does not list is lost on the way, and a draining agent is told its kills, then to
// drain (a task staged on it that never started there is lost at once: nothing to stop).
import { DRAIN_REASON, type Order } from '../protocol.ts';
import type { TaskRepository } from '../store/cluster-store.ts';
import type { AgentMailbox } from './agent-mailbox.ts';
import type { AgentLiveness } from './agent-liveness.ts';
import { deriveOrders, lostOnAgent } from './orders.ts';
import type { TaskLifecycle } from './task-lifecycle.ts';

export interface OrderDeliveryOptions {
  tasks: TaskRepository;
  liveness: AgentLiveness;
  lifecycle: TaskLifecycle;
  mailbox: AgentMailbox;
  /** Longest a poll waits for orders. */
  pollWaitMs: number;
}

export class OrderDelivery {
  constructor(private readonly options: OrderDeliveryOptions) {}

  /** Marks the agent alive, then returns its orders, waiting up to waitMs (at most pollWaitMs) for some. */
  async poll(agentId: string, runningTaskIds: string[], waitMs: number, signal?: AbortSignal, killingTaskIds: string[] = []): Promise<Order[]> {
    await this.options.liveness.heardFrom(agentId);
    const wait = Math.max(0, Math.min(waitMs, this.options.pollWaitMs));
    let orders = await this.ordersFor(agentId, runningTaskIds, killingTaskIds);
    if (orders.length === 0 && wait > 0) {
      await this.options.mailbox.wait(agentId, wait, signal);
      orders = await this.ordersFor(agentId, runningTaskIds, killingTaskIds);
    }
    return orders;
  }

  private async ordersFor(agentId: string, runningTaskIds: string[], killingTaskIds: string[]): Promise<Order[]> {
    const { tasks, lifecycle } = this.options;
    const assigned = await tasks.list({ agentId, states: ['staging', 'running'], order: 'oldest' });
    for (const task of lostOnAgent(assigned, runningTaskIds)) {
      await lifecycle.finish(task, { state: 'lost', exitCode: null, reason: 'the agent no longer runs the task (it ended or was lost while the master could not hear of it)' });
    }
    const orders = deriveOrders(assigned, runningTaskIds, killingTaskIds);
    if (!this.options.liveness.isDraining(agentId)) return orders;
    // Staged on it but never started there: nothing to stop, and their owners need not wait for it.
    const onAgent = new Set(runningTaskIds);
    for (const task of assigned) {
      if (task.state === 'staging' && !onAgent.has(task.id)) await lifecycle.finish(task, { state: 'lost', exitCode: null, reason: DRAIN_REASON });
    }
    // Kills first, so that a task a user killed ends as killed, not lost with the others.
    return [...orders.filter((order) => order.type === 'kill'), { type: 'drain' }];
  }
}
