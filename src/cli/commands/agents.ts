// `gantry agents` and `gantry join-token`.
import type { Command } from 'commander';
import { formatAttributes, type AgentWithUsage, type Resources } from '../../cluster/index.ts';
import { ApiClient } from '../client.ts';
import { age, formatBytes, formatTable, printJson } from '../table.ts';

export function registerAgentCommands(program: Command): void {
  program
    .command('agents')
    .description('list the agents in the pool with their free and total resources')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const { agents } = await new ApiClient().get<{ agents: AgentWithUsage[] }>('/api/v1/agents');
      if (flags.json) return printJson(agents);
      const rows = agents.map((a) => [
        a.id,
        a.hostname,
        a.state + (a.embedded ? ' (local)' : ''),
        usage(a, 'cpus'),
        usage(a, 'mem'),
        String(a.activeTasks),
        a.images ? String(a.images.length) : '-',
        diskUsage(a),
        age(a.lastHeartbeatAt),
        formatAttributes(a.attributes) || '-',
      ]);
      process.stdout.write(formatTable(['ID', 'HOSTNAME', 'STATE', 'CPUS FREE/TOTAL', 'MEM MIB FREE/TOTAL', 'TASKS', 'IMAGES', 'DISK SANDBOXES/CONTAINERS', 'SEEN', 'ATTRIBUTES'], rows) + '\n');
    });

  program
    .command('join-token')
    .description('create a new join token for `gantry agent --join-token`')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const result = await new ApiClient().post<{ token: string }>('/api/v1/agents/join-tokens');
      if (flags.json) printJson(result);
      else process.stdout.write(`${result.token}\n`);
    });
}

function usage(agent: AgentWithUsage, name: string): string {
  const total = agent.resources.scalars[name] ?? 0;
  const free = (agent.free as Resources | null)?.scalars[name];
  return `${free === undefined ? '-' : round(free)}/${round(total)}`;
}

/** "12.3 MiB/1.2 GiB" (containers "-" without Docker), or "-" before the agent's first report. */
function diskUsage(agent: AgentWithUsage): string {
  const usage = agent.diskUsage;
  if (!usage) return '-';
  return `${formatBytes(usage.sandboxesBytes)}/${usage.containersBytes === null ? '-' : formatBytes(usage.containersBytes)}`;
}


function round(n: number): string {
  return String(Math.round(n * 100) / 100);
}
