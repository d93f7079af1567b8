import type { LaunchOrder } from '../protocol.ts';

/**
 * The environment a task sees: its own env plus what Marathon and Mesos give tasks, so that programs
 * written for them find their ports: PORT0..n, PORT (= PORT0), PORTS, PORT_<NAME> for a named port and
 * PORT_<container port> for a mapped one (Marathon's EnvironmentHelper: the host port either way), HOST,
 * MESOS_SANDBOX; and the items of custom resources it was given as GANTRY_RESOURCE_<NAME>.
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
  order.allocation.ports.forEach((port, i) => {
    const inside = order.spec.containerPorts?.[i];
    if (inside) env[`PORT_${inside}`] = String(port);
    const name = order.spec.portNames?.[i];
    // Marathon upper-cases the name; a '-' would make no shell variable, so it becomes '_'.
    if (name) env[`PORT_${name.toUpperCase().replace(/-/g, '_')}`] = String(port);
  });
  // Custom range and set resources: which items the task got, e.g. GANTRY_RESOURCE_BUGS=a,b.
  for (const [name, items] of [...Object.entries(order.allocation.sets), ...Object.entries(order.allocation.ranges)]) {
    env[`GANTRY_RESOURCE_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`] = items.join(',');
  }
  // The task's own variables win over ours, except the identity of the task itself.
  return { ...env, ...order.spec.env, GANTRY_TASK_ID: order.taskId };
}
