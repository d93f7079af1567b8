// A running task's probes on its agent: one ProbeRunner per probe the task asks for, aimed at the
// task's ports on the agent's own host, each verdict change reported to the master (health and
// readiness apart). What a probe needs is kept in the agent's directory while the task runs, so that a
// task recovered after an agent restart is probed again (its verdicts are then reported afresh).
import type { ProbeReport } from '../protocol.ts';
import type { ProbeSpec } from '../probes/probe-spec.ts';
import { PROBE_CHECKS, type ProbeTarget } from './probes/probe-checks.ts';
import { ProbeRunner } from './probes/probe-runner.ts';
import { retryDelayMs, sleep } from './master-retry.ts';
import { sharedLauncher } from '../../shared/launcher/launcher.ts';
import type { TaskUser } from '../drivers/driver.ts';
import { switchUserArgv } from '../drivers/exec-user.ts';
import { loadTaskFile, pruneTaskFiles, removeTaskFile, saveTaskFile } from './task-files.ts';

const KIND = 'probes';

/** What probing a task takes: its probes, its host ports, and where and as whom a command probe runs. */
export interface TaskProbeSetup {
  health?: ProbeSpec;
  readiness?: ProbeSpec;
  ports: number[];
  /**
   * Command probes: the task's working directory, environment, and user (with its private uid) when the
   * agent switches users. A name alone: a setup kept by an earlier version (run with runuser).
   */
  cwd: string;
  env: Record<string, string>;
  user?: TaskUser | string;
  /** A container task: command probes run inside its container (the driver's execIn), not beside it. */
  inContainer?: boolean;
}

/** Runs a command inside a task's container (Driver.execIn of the docker driver). */
export type ContainerExec = (taskId: string, argv: string[], timeoutMs: number) => Promise<{ exitCode: number | null; output: string }>;

/** Where the agent reaches its tasks' ports: they are published on its own host. */
const TASK_HOST = '127.0.0.1';

/** Starts the task's probes; returns what stops them (no verdict is reported after it). */
export function startTaskProbes(taskId: string, setup: TaskProbeSetup, startedAt: number, report: (report: ProbeReport) => Promise<void>, execInContainer?: ContainerExec): () => void {
  const runCommand = setup.inContainer ? containerRunner(taskId, execInContainer) : commandRunner(setup);
  const target: ProbeTarget = { host: TASK_HOST, ports: setup.ports, ...(runCommand ? { runCommand } : {}) };
  let stopped = false;
  const runners: ProbeRunner[] = [];
  for (const which of ['health', 'readiness'] as const) {
    const spec = setup[which];
    if (!spec) continue;
    // A verdict is delivered until the master has it, unless a newer one of the same probe came since.
    let latest = 0;
    const deliver = async (verdict: ProbeReport, number: number): Promise<void> => {
      for (let attempt = 0; !stopped && number === latest; attempt++) {
        try {
          return await report(verdict);
        } catch {
          await sleep(retryDelayMs(attempt));
        }
      }
    };
    runners.push(
      new ProbeRunner({
        which,
        spec,
        startedAt,
        attempt: (signal) => PROBE_CHECKS[spec.kind](spec, target, signal),
        onChange: (passing, message) => void deliver({ taskId, ...(which === 'health' ? { health: passing ? 'healthy' : 'unhealthy' } : { ready: passing }), message }, ++latest),
      }),
    );
  }
  return () => {
    stopped = true;
    runners.forEach((runner) => runner.stop());
  };
}

/** A command probe runs beside an exec task: in its directory, with its environment, as its user and uid (setpriv). */
function commandRunner(setup: TaskProbeSetup): ProbeTarget['runCommand'] {
  const { user } = setup;
  const switchUser = user === undefined ? [] : typeof user === 'string' ? ['runuser', '-u', user, '--'] : switchUserArgv(user);
  return async (command, timeoutMs) => {
    const argv = [...switchUser, '/bin/sh', '-c', command];
    const result = await sharedLauncher().run(argv, { cwd: setup.cwd, env: setup.env, timeoutMs, maxBuffer: 4096 });
    return { exitCode: result.exitCode, output: `${result.stdout.toString()}${result.stderr.toString()}` };
  };
}

/** A command probe of a container task runs inside the container, with its shell, user and environment. */
function containerRunner(taskId: string, execInContainer: ContainerExec | undefined): ProbeTarget['runCommand'] | undefined {
  if (!execInContainer) return undefined; // no docker driver on this agent (any more): the probe says so
  return (command, timeoutMs) => execInContainer(taskId, ['/bin/sh', '-c', command], timeoutMs);
}

export function hasProbes(setup: Partial<TaskProbeSetup>): boolean {
  return setup.health !== undefined || setup.readiness !== undefined;
}

/** Kept before the task starts, for a recovered task. */
export async function saveProbeSetup(workDir: string, taskId: string, setup: TaskProbeSetup): Promise<void> {
  if (hasProbes(setup)) await saveTaskFile(workDir, KIND, taskId, setup);
}

export async function loadProbeSetup(workDir: string, taskId: string): Promise<TaskProbeSetup | undefined> {
  const setup = (await loadTaskFile(workDir, KIND, taskId)) as TaskProbeSetup | undefined;
  return setup && Array.isArray(setup.ports) ? setup : undefined;
}

export function removeProbeSetup(workDir: string, taskId: string): Promise<void> {
  return removeTaskFile(workDir, KIND, taskId);
}

export function pruneProbeSetups(workDir: string, keepTaskIds: ReadonlySet<string>): Promise<void> {
  return pruneTaskFiles(workDir, KIND, keepTaskIds);
}
