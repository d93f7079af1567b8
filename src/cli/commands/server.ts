// `gantry server` (alias `gantry up`): the master, the platform API and the embedded local agent.
import type { Command } from 'commander';
import { loadServerConfig, parseNameList } from '../../config/server-config.ts';
import { parseBytes } from '../../shared/bytes.ts';
import { parseDuration } from '../../shared/duration.ts';
import { VERSION } from '../../shared/version.ts';
import { onStopSignals } from '../stop-signals.ts';

interface ServerFlags {
  config?: string;
  dataDir?: string;
  listen?: string;
  registryListen?: string;
  registryExternalUrl?: string;
  databaseUrl?: string;
  localAgent: boolean;
  drainOnStop?: boolean;
  agentHostname?: string;
  agentResources?: string;
  agentAttributes?: string;
  agentContainerGcDelay?: string;
  registryGcInterval?: string;
  agentPruneImagesAfter?: string;
  agentCgroupFavordynmods?: boolean;
  agentTaskUsers?: string;
  agentTaskUids?: string;
  agentUsageInterval?: string;
  strategy?: 'binpack' | 'spread' | 'random';
  heartbeatTimeout?: string;
  taskLogMax?: string;
  taskLogRetention?: string;
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  lb?: 'builtin' | 'haproxy' | 'off';
  dnsListen?: string;
  drainDelay?: string;
}

export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .alias('up')
    .description('start the Gantry server: platform API, scheduler and an embedded local agent')
    .option('--config <file>', 'YAML or JSON config file (env GANTRY_CONFIG)')
    .option('--data-dir <dir>', 'where the SQLite store, logs and sandboxes live (default ./data)')
    .option('--listen <host:port>', 'platform API address (default 127.0.0.1:7070)')
    .option('--registry-listen <host:port>', 'registry address (default 127.0.0.1:5000)')
    .option('--registry-gc-interval <duration>', 'collect the registry\'s garbage this often (default 24h; 0: never)')
    .option('--registry-external-url <url>', 'the registry URL clients use, for its token realm behind a proxy (env GANTRY_REGISTRY_EXTERNAL_URL)')
    .option('--database-url <url>', 'postgres://... to use PostgreSQL instead of SQLite (env GANTRY_DATABASE_URL)')
    .option('--no-local-agent', 'do not run the embedded local agent')
    .option('--drain-on-stop', 'on SIGTERM/SIGINT, kill the embedded agent\'s tasks (reported lost, replaced elsewhere) before exiting; by default they keep running and the next start takes them back (env GANTRY_DRAIN_ON_STOP=1)')
    .option('--agent-hostname <name>', 'hostname the local agent registers with')
    .option('--agent-resources <mesos>', 'local agent resources, e.g. "cpus:4;mem:8192;ports:[31000-32000]" (default: detected)')
    .option('--agent-attributes <mesos>', 'local agent attributes, e.g. "rack:r1;zone:west"')
    .option('--agent-container-gc-delay <duration>', 'keep exited containers this long after their task ended, then remove them (default 10m; 0 removes at once)')
    .option('--agent-prune-images-after <duration>', 'prune dangling Docker images older than this (checked hourly; default: never)')
    .option('--agent-cgroup-favordynmods', 'turn the kernel\'s cgroup favordynmods on: tasks join their cgroups without waiting 10-30 ms (kernel-wide, Linux 6.0+, root)')
    .option('--agent-task-users <users>', 'users the embedded agent\'s tasks may run as, the default first, e.g. "gantry-task,ci-docker" (default: gantry-task, created if missing; env GANTRY_TASK_USERS)')
    .option('--agent-task-uids <range>', 'private uids for the embedded agent\'s tasks that run as its default user, one each: FIRST-LAST, or "off" to share the user\'s uid (default 1900000000-1900065535; env GANTRY_TASK_UIDS)')
    .option('--agent-usage-interval <duration>', 'how often the embedded agent samples its tasks\' CPU and memory for the master (default 10s)')
    .option('--strategy <name>', 'default placement strategy: binpack, spread or random')
    .option('--heartbeat-timeout <duration>', 'mark agents unreachable after this long without a heartbeat (default 30s)')
    .option('--task-log-max <size>', 'the most output kept per task; the oldest is cut past it (default 10MiB; 0: no cap; env GANTRY_TASK_LOG_MAX)')
    .option('--task-log-retention <duration>', 'remove a finished task\'s log this long after it ended (default 168h; 0: never; env GANTRY_TASK_LOG_RETENTION)')
    .option('--lb <plane>', 'the load balancer: builtin (embedded, the default), haproxy (Debian\'s haproxy, managed with seamless reloads) or off (env GANTRY_LB)')
    .option('--dns-listen <host:port>', 'where the DNS server answers for apps (default 127.0.0.1:8600; off: none; env GANTRY_DNS_LISTEN)')
    .option('--drain-delay <duration>', 'an app instance asked to stop leaves DNS and the load balancer, then gets its SIGTERM this much later (default 5s; env GANTRY_APP_DRAIN_DELAY)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
    .action(async (flags: ServerFlags) => {
      const config = loadServerConfig({
        file: flags.config,
        env: process.env,
        flags: {
          dataDir: flags.dataDir,
          listen: flags.listen,
          registryListen: flags.registryListen,
          registry:
            flags.registryExternalUrl !== undefined || flags.registryGcInterval !== undefined
              ? {
                  ...(flags.registryExternalUrl !== undefined ? { externalUrl: flags.registryExternalUrl } : {}),
                  ...(flags.registryGcInterval !== undefined ? { gcIntervalMs: parseDuration(flags.registryGcInterval, '--registry-gc-interval') } : {}),
                }
              : undefined,
          databaseUrl: flags.databaseUrl,
          localAgent: flags.localAgent === false ? false : undefined,
          drainOnStop: flags.drainOnStop === true ? true : undefined,
          agent: {
            hostname: flags.agentHostname,
            resources: flags.agentResources,
            attributes: flags.agentAttributes,
            containerGcDelayMs: flags.agentContainerGcDelay !== undefined ? parseDuration(flags.agentContainerGcDelay, '--agent-container-gc-delay') : undefined,
            pruneImagesAfterMs: flags.agentPruneImagesAfter !== undefined ? parseDuration(flags.agentPruneImagesAfter, '--agent-prune-images-after') : undefined,
            cgroupFavorDynmods: flags.agentCgroupFavordynmods === true ? true : undefined,
            taskUsers: flags.agentTaskUsers !== undefined ? parseNameList(flags.agentTaskUsers) : undefined,
            taskUids: flags.agentTaskUids,
            usageIntervalMs: flags.agentUsageInterval !== undefined ? parseDuration(flags.agentUsageInterval, '--agent-usage-interval') : undefined,
          },
          placement: flags.strategy ? { strategy: flags.strategy } : undefined,
          heartbeatTimeoutMs: flags.heartbeatTimeout ? parseDuration(flags.heartbeatTimeout, '--heartbeat-timeout') : undefined,
          taskLogs:
            flags.taskLogMax !== undefined || flags.taskLogRetention !== undefined
              ? {
                  ...(flags.taskLogMax !== undefined ? { maxBytesPerTask: parseBytes(flags.taskLogMax, '--task-log-max') } : {}),
                  ...(flags.taskLogRetention !== undefined ? { retentionMs: parseDuration(flags.taskLogRetention, '--task-log-retention') } : {}),
                }
              : undefined,
          logLevel: flags.logLevel,
          discovery: flags.lb !== undefined || flags.dnsListen !== undefined ? { ...(flags.lb !== undefined ? { lb: flags.lb } : {}), ...(flags.dnsListen !== undefined ? { dnsListen: flags.dnsListen } : {}) } : undefined,
          apps: flags.drainDelay !== undefined ? { drainDelayMs: parseDuration(flags.drainDelay, '--drain-delay') } : undefined,
        },
      });
      // Loaded here so that client commands do not pay for the server's modules.
      const { startServer } = await import('../../main.ts');
      const server = await startServer(config);
      const out = (line: string): boolean => process.stdout.write(line + '\n');
      out(`Gantry ${VERSION} listening on ${server.url} (data: ${config.dataDir}, store: ${server.store.kind})`);
      out(`Registry listening on ${server.registryUrl} (push with an admin token as the password)`);
      if (server.newSecrets.adminToken) {
        out(`Admin token (shown once, stored hashed): ${server.newSecrets.adminToken}`);
        out(`  export GANTRY_URL=${server.url} GANTRY_TOKEN=${server.newSecrets.adminToken}`);
      }
      if (server.newSecrets.joinToken) out(`Join token for agents (shown once, stored hashed): ${server.newSecrets.joinToken}`);
      if (server.discovery.dnsAddress) out(`DNS for apps on ${server.discovery.dnsAddress.host}:${server.discovery.dnsAddress.port} (udp and tcp; zone ${config.discovery.domain}.)`);
      if (server.localAgent) out(`Local agent ${server.localAgent.id} registered`);

      onStopSignals(async (signal) => {
        const drain = config.drainOnStop && server.localAgent !== undefined;
        out(
          drain
            ? `${signal}: draining the local agent, then stopping (its tasks get their grace period; press Ctrl-C again to quit now)`
            : `${signal}: stopping; running tasks keep running and the next start takes them back`,
        );
        await server.close({ drain });
      }, 'shutdown failed');
    });
}
