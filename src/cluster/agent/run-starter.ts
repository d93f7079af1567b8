// Starts one run of a task on this agent: the driver its spec calls for, its sandbox and workspace,
// its environment and the user it runs as. The first run (a launch order) and every restart go through
// here, and so does what its probes need (a command probe runs where and as whom the task does).
import path from 'node:path';
import type { Driver, TaskHandle } from '../drivers/driver.ts';
import { execEnvironment } from '../drivers/exec.ts';
import type { LaunchOrder, RegistryAccess } from '../protocol.ts';
import type { TaskProbeSetup } from './task-probes.ts';
import { taskEnvironment } from './task-environment.ts';
import type { TaskUsers } from './task-users.ts';
import { sandboxRoot, workspaceRoot } from './work-dir.ts';

export interface RunStarterOptions {
  drivers: Driver[];
  workDir: string;
  hostname: string;
  taskUsers: TaskUsers;
  /** Known once the agent registered. */
  agentId: () => string | undefined;
  /** The bundled registry's robot account (registration): the docker driver pulls with it. */
  registry: () => RegistryAccess | undefined;
}

export class RunStarter {
  constructor(private readonly options: RunStarterOptions) {}

  /** Starts one run of the task with the driver its spec calls for. */
  start(order: LaunchOrder): Promise<TaskHandle> {
    const driver = this.pickDriver(order);
    const { sandboxDir, workingDir } = this.directories(order);
    const env = taskEnvironment(order, this.options.hostname, sandboxDir, workingDir);
    const user = this.userOf(order, driver); // throws for a user this agent does not allow
    const agentId = this.options.agentId();
    const registry = this.options.registry();
    return driver.start({
      taskId: order.taskId,
      spec: order.spec,
      allocation: order.allocation,
      sandboxDir,
      env,
      ...(workingDir ? { workingDir } : {}),
      ...(agentId ? { agentId } : {}),
      // The bundled registry's robot account: the docker driver pulls images from that registry with it.
      ...(registry ? { registry } : {}),
      user, // exec: run as it (the driver switches only to a user other than its own)
    });
  }

  /** What probing the task takes (its probes, ports, and for command probes where and as whom), or none. */
  probeSetup(order: LaunchOrder): TaskProbeSetup | undefined {
    const { health, readiness } = order.spec;
    if (!health && !readiness) return undefined;
    const { sandboxDir, workingDir } = this.directories(order);
    const ports = order.allocation.ports;
    // A container's command probes run inside it, with its own user and environment (docker exec).
    if (order.spec.image) return { ...(health ? { health } : {}), ...(readiness ? { readiness } : {}), ports, cwd: sandboxDir, env: {}, inContainer: true };
    const user = this.options.taskUsers.switches ? this.userOf(order, this.pickDriver(order)) : undefined;
    const env = execEnvironment({ env: taskEnvironment(order, this.options.hostname, sandboxDir, workingDir), sandboxDir, ...(user ? { user } : {}) });
    return {
      ...(health ? { health } : {}),
      ...(readiness ? { readiness } : {}),
      ports,
      cwd: workingDir ?? sandboxDir,
      env,
      ...(user ? { user } : {}),
    };
  }

  /**
   * The user an exec task runs as, with its private uid (task-users.ts runAs: held by the task or its
   * workspace until the agent releases it). A container runs as its image's user: it holds no uid.
   */
  private userOf(order: LaunchOrder, driver: Driver) {
    const { taskUsers } = this.options;
    if (driver.name !== 'exec') return taskUsers.forTask(order.spec);
    return taskUsers.runAs(order.spec, { taskId: order.taskId, workspace: order.spec.workspace });
  }

  private directories(order: LaunchOrder): { sandboxDir: string; workingDir: string | undefined } {
    return {
      sandboxDir: path.join(sandboxRoot(this.options.workDir), order.taskId),
      // The spec's name was checked at submission ([A-Za-z0-9._-], no leading dot): it stays inside.
      workingDir: order.spec.workspace ? path.join(workspaceRoot(this.options.workDir), order.spec.workspace) : undefined,
    };
  }

  private pickDriver(order: LaunchOrder): Driver {
    const wanted = order.spec.image || order.spec.build ? 'docker' : 'exec';
    const driver = this.options.drivers.find((d) => d.name === wanted);
    if (!driver) throw new Error(wanted === 'docker' ? 'this agent has no docker driver (no Docker engine answered when it started)' : `this agent has no ${wanted} driver`);
    return driver;
  }
}
