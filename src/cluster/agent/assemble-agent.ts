// The one way an agent is put together, for the embedded agent (main.ts) and `gantry agent`
// (cli/commands/agent.ts): its drivers and what they add to its attributes, its resources (detected,
// with the operator's laid over them) and the Agent itself. The callers only read their own settings
// (config or flags), resolve the task users when a bad one should stop them, and pick the MasterLink.
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import type { Logger } from 'pino';
import type { MasterLink } from '../protocol.ts';
import type { Attributes, Resources } from '../types.ts';
import { Agent, type AgentOptions } from './agent.ts';
import { detectAgentDrivers, type AgentDriverOptions } from './agent-drivers.ts';
import { detectResources, mergeResources } from './detect-resources.ts';
import type { TaskUsers } from './task-users.ts';

export interface AgentAssembly {
  link: MasterLink;
  /** The agent's own directory (made when missing). */
  workDir: string;
  /** Default: this machine's. */
  hostname?: string | undefined;
  /** The operator's resources (parsed), laid over the detected ones resource by resource. */
  resources: Resources;
  /** The operator's attributes (parsed): they win over the drivers' own of the same name. */
  attributes: Attributes;
  taskUsers: TaskUsers;
  drivers: AgentDriverOptions;
  gcIntervalMs?: number;
  usageIntervalMs?: number;
  onDrained?: AgentOptions['onDrained'];
}

/** Detects the drivers and resources and builds the agent; it is started by the caller (Agent.start). */
export async function assembleAgent(assembly: AgentAssembly, logger: Logger): Promise<Agent> {
  const { workDir } = assembly;
  await mkdir(workDir, { recursive: true });
  const detected = await detectAgentDrivers(logger, assembly.drivers);
  return new Agent({
    link: assembly.link,
    drivers: detected.drivers,
    workDir,
    hostname: assembly.hostname ?? os.hostname(),
    resources: mergeResources(detectResources(workDir), assembly.resources),
    attributes: { ...detected.attributes, ...assembly.attributes },
    logger,
    taskUsers: assembly.taskUsers,
    ...(assembly.gcIntervalMs !== undefined ? { gcIntervalMs: assembly.gcIntervalMs } : {}),
    ...(assembly.usageIntervalMs !== undefined ? { usageIntervalMs: assembly.usageIntervalMs } : {}),
    ...(assembly.onDrained ? { onDrained: assembly.onDrained } : {}),
  });
}
