import type { LaunchOrder } from '../protocol.ts';

/**
 * The environment a task sees: its own env plus what Marathon and Mesos give tasks, so that programs
 * written for them find their ports: PORT0..n, PORT (= PORT0), PORTS, HOST, MESOS_SANDBOX; and the
 * items of custom resources it was given as GANTRY_RESOURCE_<NAME>.
 */
export function taskEnvironment(order: LaunchOrder, hostname: string, sandboxDir: string, workspaceDir?: string): Record<string, string> {
  const env: Record<string, string> = {
    GANTRY_TASK_ID: order.taskId,
    GANTRY_SANDBOX: sandboxDir,
    MESOS_SANDBOX: sandboxDir,
    HOST: hostname,
  };
  if (workspaceDir) env.GANTRY_WORKSPACE = workspaceDir;
  order.allocation.ports.forEach((port, i) => {
    env[`PORT${i}`] = String(port);
  });
  if (order.allocation.ports.length > 0) {
    env.PORT = String(order.allocation.ports[0]);
    env.PORTS = order.allocation.ports.join(',');
  }
  // Custom range and set resources: which items the task got, e.g. GANTRY_RESOURCE_BUGS=a,b.
  for (const [name, items] of [...Object.entries(order.allocation.sets), ...Object.entries(order.allocation.ranges)]) {
    env[`GANTRY_RESOURCE_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`] = items.join(',');
  }
  // The task's own variables win over ours, except the identity of the task itself.
  return { ...env, ...order.spec.env, GANTRY_TASK_ID: order.taskId };
}
