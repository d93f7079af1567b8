// The apps' events, in Marathon's shapes and names (its event bus, served at /v2/events as Server-Sent
// Events with an `event_type` filter): task status updates, health changes, unhealthy kills, and each
// deployment's start, steps, success or failure. Emitted in the order they happen, each once.
import { EventEmitter } from 'node:events';
import type { TaskRecord } from '../../cluster/index.ts';

export interface MarathonEvent {
  eventType: string;
  timestamp: string;
  [field: string]: unknown;
}

const TASK_STATUS: Record<TaskRecord['state'], string> = {
  queued: 'TASK_STAGING',
  staging: 'TASK_STAGING',
  running: 'TASK_RUNNING',
  finished: 'TASK_FINISHED',
  failed: 'TASK_FAILED',
  killed: 'TASK_KILLED',
  lost: 'TASK_LOST',
};

export function marathonTaskStatus(state: TaskRecord['state']): string {
  return TASK_STATUS[state];
}

/** The apps' event bus: `on('event', listener)`; listeners must not throw. */
export class AppEvents extends EventEmitter {
  constructor(private readonly now: () => Date) {
    super();
    this.setMaxListeners(0); // one per /v2/events client
  }

  publish(eventType: string, fields: Record<string, unknown>): void {
    const event: MarathonEvent = { eventType, timestamp: this.now().toISOString(), ...fields };
    this.emit('event', event);
  }

  taskStatus(appId: string, version: string, task: TaskRecord): void {
    this.publish('status_update_event', {
      appId,
      taskId: task.id,
      slaveId: task.agentId ?? '',
      taskStatus: marathonTaskStatus(task.state),
      message: task.reason ?? '',
      host: task.allocation?.host ?? '',
      ports: task.allocation?.ports ?? [],
      ipAddresses: [],
      version,
    });
  }

  healthChanged(appId: string, version: string, task: TaskRecord): void {
    this.publish('health_status_changed_event', { appId, taskId: task.id, instanceId: task.id, version, alive: task.health === 'healthy' });
  }
}
