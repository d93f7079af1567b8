// The composition root of a remote agent (`gantry agent`), as main.ts is the server's: it reads the
// operator's settings into the agent's parts (resources, attributes, task users), links it to its
// master over HTTP and assembles it. Loaded by the CLI only for that command, so that other commands
// do not load the drivers (dockerode) at start. It holds no logic of its own.
import path from 'node:path';
import type { Logger } from 'pino';
import type { Agent } from './cluster/agent/agent.ts';
import type { AgentDriverOptions } from './cluster/agent/agent-drivers.ts';
import { assembleAgent } from './cluster/agent/assemble-agent.ts';
import { HttpMasterLink } from './cluster/agent/http-master-link.ts';
import { parseUidRange } from './cluster/agent/private-uids.ts';
import { parseTaskUsers, resolveTaskUsers } from './cluster/agent/task-users.ts';
import { parseAttributes, parseResources } from './cluster/resources/parse.ts';

export interface RemoteAgentSettings {
  masterUrl: string;
  joinToken: string;
  dataDir: string;
  hostname?: string | undefined;
  /** Mesos syntax, as given (empty: detected). */
  resources: string;
  attributes: string;
  /** Comma-separated names as given, and where they came from (for the error). */
  taskUsers: { names: string; from: string };
  /** The private uid range as given (FIRST-LAST, off, or empty for the default), and where from. */
  taskUids: { range: string; from: string };
  drivers: AgentDriverOptions;
  gcIntervalMs: number;
  usageIntervalMs: number;
  onDrained: (agent: Agent) => void;
}

/** The agent, built and not yet started. Throws Invalid for a bad setting (the CLI exits 2). */
export async function assembleRemoteAgent(settings: RemoteAgentSettings, logger: Logger): Promise<Agent> {
  const resources = parseResources(settings.resources);
  const attributes = parseAttributes(settings.attributes);
  const uids = parseUidRange(settings.taskUids.range, settings.taskUids.from);
  const taskUsers = await resolveTaskUsers(parseTaskUsers(settings.taskUsers.names, settings.taskUsers.from), logger, uids);
  const agent: Agent = await assembleAgent(
    {
      link: new HttpMasterLink(settings.masterUrl, settings.joinToken),
      workDir: path.resolve(settings.dataDir),
      hostname: settings.hostname,
      resources,
      attributes,
      taskUsers,
      drivers: settings.drivers,
      gcIntervalMs: settings.gcIntervalMs,
      usageIntervalMs: settings.usageIntervalMs,
      onDrained: () => settings.onDrained(agent),
    },
    logger,
  );
  return agent;
}
