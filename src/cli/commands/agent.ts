// `gantry agent`: a remote agent in its own process, joining a master over HTTP; `gantry agent drain`:
// tell an agent to stop its tasks (their owners replace them elsewhere) and leave the pool.
import type { Command } from 'commander';
import { pino } from 'pino';
import { parseDuration } from '../../shared/duration.ts';
import { parseSwitch } from '../../config/server-config.ts';
import type { AgentWithUsage } from '../../cluster/index.ts';
import { ApiClient, CliError } from '../client.ts';
import { onStopSignals } from '../stop-signals.ts';
import { Invalid } from '../../shared/errors.ts';

interface AgentFlags {
  master?: string;
  joinToken?: string;
  resources?: string;
  attributes?: string;
  hostname?: string;
  dataDir: string;
  containerGcDelay: string;
  pruneImagesAfter?: string;
  gcInterval: string;
  cgroupFavordynmods?: boolean;
  drainOnStop?: boolean;
  taskUsers?: string;
  taskUids?: string;
  usageInterval: string;
  logLevel: string;
}

export function registerAgentCommand(program: Command): void {
  const command = program
    .command('agent')
    .description('run a remote agent that joins a Gantry master and runs its tasks')
    .option('--master <url>', 'the master\'s platform API URL (env GANTRY_URL)')
    .option('--join-token <token>', 'join token printed by the server at first start (env GANTRY_JOIN_TOKEN)')
    .option('--resources <mesos>', 'resources offered, e.g. "cpus:4;mem:8192;ports:[31000-32000];bugs(debug_role):{a,b,c}" (default: detected)')
    .option('--attributes <mesos>', 'attributes, e.g. "rack:abc;zone:west;level:10"', '')
    .option('--hostname <name>', 'hostname to register with (default: this machine\'s)')
    .option('--data-dir <dir>', 'the agent\'s id file and task sandboxes', './agent-data')
    .option('--container-gc-delay <duration>', 'keep exited containers this long after their task ended, then remove them (0: at once)', '10m')
    .option('--prune-images-after <duration>', 'prune dangling Docker images older than this (checked hourly; default: never)')
    .option('--usage-interval <duration>', 'how often to sample the tasks\' CPU and memory for the master', '10s')
    .option('--gc-interval <duration>', 'how often to collect garbage (containers, images) and report disk use', '1m')
    .option('--cgroup-favordynmods', 'turn the kernel\'s cgroup favordynmods on: tasks join their cgroups without waiting 10-30 ms (kernel-wide, Linux 6.0+, root)')
    .option('--drain-on-stop', 'on SIGTERM/SIGINT, kill this agent\'s tasks (reported lost, replaced elsewhere) before exiting; by default they keep running and the next start takes them back (env GANTRY_DRAIN_ON_STOP=1)')
    .option('--task-users <users>', 'users tasks may run as, the default first, e.g. "gantry-task,ci-docker"; a task names one with `user` (default: gantry-task, created if missing; env GANTRY_TASK_USERS)')
    .option('--task-uids <range>', 'private uids for tasks that run as the default user, one each: FIRST-LAST, or "off" to share the user\'s uid (default 1900000000-1900065535; env GANTRY_TASK_UIDS)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', 'info')
    .action(async (flags: AgentFlags) => {
      const drainOnStop = flags.drainOnStop === true || parseSwitch('GANTRY_DRAIN_ON_STOP', process.env.GANTRY_DRAIN_ON_STOP ?? '');
      const masterUrl = flags.master ?? process.env.GANTRY_URL;
      const joinToken = flags.joinToken ?? process.env.GANTRY_JOIN_TOKEN;
      if (!masterUrl) throw new CliError('--master URL is required (or set GANTRY_URL)', 2);
      if (!joinToken) throw new CliError('--join-token is required (or set GANTRY_JOIN_TOKEN)', 2);
      try {
        new URL(masterUrl);
      } catch {
        throw new CliError(`--master must be a URL like http://127.0.0.1:7070 (got "${masterUrl}")`, 2);
      }
      const logger = pino({ level: flags.logLevel }, pino.destination(2));
      // Loaded here so that other commands do not pay for the agent's modules (its drivers).
      const { assembleRemoteAgent } = await import('../../agent-main.ts');
      let agent;
      try {
        agent = await assembleRemoteAgent(
          {
            masterUrl,
            joinToken,
            dataDir: flags.dataDir,
            hostname: flags.hostname,
            resources: flags.resources ?? '',
            attributes: flags.attributes ?? '',
            taskUsers: flags.taskUsers !== undefined ? { names: flags.taskUsers, from: '--task-users' } : { names: process.env.GANTRY_TASK_USERS ?? '', from: 'GANTRY_TASK_USERS' },
            taskUids: flags.taskUids !== undefined ? { range: flags.taskUids, from: '--task-uids' } : { range: process.env.GANTRY_TASK_UIDS ?? '', from: 'GANTRY_TASK_UIDS' },
            drivers: {
              keepExitedMs: parseDuration(flags.containerGcDelay, '--container-gc-delay'),
              ...(flags.pruneImagesAfter !== undefined ? { pruneImagesAfterMs: parseDuration(flags.pruneImagesAfter, '--prune-images-after') } : {}),
              cgroupFavorDynmods: flags.cgroupFavordynmods === true,
            },
            gcIntervalMs: parseDuration(flags.gcInterval, '--gc-interval'),
            usageIntervalMs: parseDuration(flags.usageInterval, '--usage-interval'),
            onDrained: (drained) => {
              process.stdout.write(`Agent ${drained.id} drained: its tasks were stopped; leaving the pool\n`);
              process.exit(0);
            },
          },
          logger,
        );
      } catch (err) {
        throw new CliError(`cannot start the agent: ${(err as Error).message}`, err instanceof Invalid ? 2 : 1);
      }
      try {
        await agent.start();
      } catch (err) {
        throw new CliError(`cannot join ${masterUrl}: ${(err as Error).message}`);
      }
      process.stdout.write(`Agent ${agent.id} joined ${masterUrl}\n`);

      onStopSignals(async (signal) => {
        process.stdout.write(
          drainOnStop
            ? `${signal}: draining (tasks get their grace period; press Ctrl-C again to quit now)\n`
            : `${signal}: stopping; running tasks keep running and the next start takes them back\n`,
        );
        await (drainOnStop ? agent.drain() : agent.stop());
      }, 'agent stop failed');
    });

  command
    .command('drain <agent>')
    .description('stop every task of an agent (id or hostname): they are reported lost and their owners replace them elsewhere; the agent then leaves the pool')
    .option('--no-wait', 'return once the agent was told, without waiting for its tasks to stop')
    .option('--timeout <duration>', 'how long to wait for the tasks to stop', '5m')
    .action(async (name: string, flags: { wait: boolean; timeout: string }) => {
      const client = new ApiClient();
      const timeoutMs = parseDuration(flags.timeout, '--timeout');
      const find = async (): Promise<AgentWithUsage | undefined> => {
        const { agents } = await client.get<{ agents: AgentWithUsage[] }>('/api/v1/agents');
        const byId = agents.find((a) => a.id === name);
        if (byId) return byId;
        const byHost = agents.filter((a) => a.hostname === name && a.state !== 'gone');
        if (byHost.length > 1) throw new CliError(`${byHost.length} agents have the hostname ${name}: give one of their ids (${byHost.map((a) => a.id).join(', ')})`, 2);
        return byHost[0];
      };
      const target = await find();
      if (!target) throw new CliError(`no agent ${name} (see gantry agents)`, 2);
      await client.post(`/api/v1/agents/${encodeURIComponent(target.id)}/drain`);
      process.stdout.write(`Agent ${target.id} (${target.hostname}) draining: ${target.activeTasks} task(s) to stop\n`);
      if (!flags.wait) return;
      const deadline = Date.now() + timeoutMs;
      let left = target.activeTasks;
      for (;;) {
        const now = await find();
        if (!now || now.activeTasks === 0) break;
        if (now.activeTasks !== left) process.stdout.write(`  ${now.activeTasks} task(s) left\n`);
        left = now.activeTasks;
        if (Date.now() > deadline) throw new CliError(`agent ${target.id} still has ${left} task(s) after ${flags.timeout}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      process.stdout.write(`Agent ${target.id} drained\n`);
    });
}
