// `gantry agent`: a remote agent in its own process, joining a master over HTTP.
import os from 'node:os';
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import type { Command } from 'commander';
import { pino } from 'pino';
import { Agent } from '../../cluster/agent/agent.ts';
import { detectResources, mergeResources } from '../../cluster/agent/detect-resources.ts';
import { detectAgentDrivers } from '../../cluster/agent/agent-drivers.ts';
import { HttpMasterLink } from '../../cluster/agent/http-master-link.ts';
import { parseAttributes, parseResources } from '../../cluster/resources/parse.ts';
import { parseDuration } from '../../shared/duration.ts';
import { CliError } from '../client.ts';

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
  logLevel: string;
}

export function registerAgentCommand(program: Command): void {
  program
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
    .option('--gc-interval <duration>', 'how often to collect garbage (containers, images) and report disk use', '1m')
    .option('--cgroup-favordynmods', 'turn the kernel\'s cgroup favordynmods on: tasks join their cgroups without waiting 10-30 ms (kernel-wide, Linux 6.0+, root)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', 'info')
    .action(async (flags: AgentFlags) => {
      const masterUrl = flags.master ?? process.env.GANTRY_URL;
      const joinToken = flags.joinToken ?? process.env.GANTRY_JOIN_TOKEN;
      if (!masterUrl) throw new CliError('--master URL is required (or set GANTRY_URL)', 2);
      if (!joinToken) throw new CliError('--join-token is required (or set GANTRY_JOIN_TOKEN)', 2);
      try {
        new URL(masterUrl);
      } catch {
        throw new CliError(`--master must be a URL like http://127.0.0.1:7070 (got "${masterUrl}")`, 2);
      }
      const resources = parseResources(flags.resources ?? '');
      const attributes = parseAttributes(flags.attributes ?? '');
      const workDir = path.resolve(flags.dataDir);
      await mkdir(workDir, { recursive: true });

      const logger = pino({ level: flags.logLevel }, pino.destination(2));
      const link = new HttpMasterLink(masterUrl, joinToken);
      const detected = await detectAgentDrivers(logger, {
        keepExitedMs: parseDuration(flags.containerGcDelay, '--container-gc-delay'),
        ...(flags.pruneImagesAfter !== undefined ? { pruneImagesAfterMs: parseDuration(flags.pruneImagesAfter, '--prune-images-after') } : {}),
        cgroupFavorDynmods: flags.cgroupFavordynmods === true,
      });
      const agent = new Agent({
        link,
        drivers: detected.drivers,
        workDir,
        hostname: flags.hostname ?? os.hostname(),
        resources: mergeResources(detectResources(workDir), resources),
        attributes: { ...detected.attributes, ...attributes },
        logger,
        gcIntervalMs: parseDuration(flags.gcInterval, '--gc-interval'),
      });
      try {
        await agent.start();
      } catch (err) {
        throw new CliError(`cannot join ${masterUrl}: ${(err as Error).message}`);
      }
      process.stdout.write(`Agent ${agent.id} joined ${masterUrl}\n`);

      let stopping = false;
      const shutdown = (): void => {
        if (stopping) process.exit(130);
        stopping = true;
        agent.stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.on('SIGINT', shutdown);
      process.on('SIGTERM', shutdown);
    });
}
