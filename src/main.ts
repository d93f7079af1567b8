// The composition root: opens the store, wires the master, the API and the embedded agent, and
// starts listening. It holds no logic of its own.
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { AppsService, ImageRollout } from './apps/index.ts';
import { BatchService } from './batch/index.ts';
import { checkExposure, Discovery } from './discovery/index.ts';
import { CiService, GitHubStatusReporter, GitLabStatusReporter, MIRRORS_DIR } from './ci/index.ts';
import type { Agent } from './cluster/agent/agent.ts';
import { assembleAgent, type AgentAssembly } from './cluster/agent/assemble-agent.ts';
import { parseUidRange } from './cluster/agent/private-uids.ts';
import { resolveTaskUsers } from './cluster/agent/task-users.ts';
import { LocalMasterLink } from './cluster/agent/local-master-link.ts';
import type { RegistryAccess } from './cluster/protocol.ts';
import { clusterClient } from './cluster/index.ts';
import { Master } from './cluster/master/master.ts';
import { TaskLogStore } from './cluster/master/task-logs.ts';
import { LogRetention } from './cluster/master/log-retention.ts';
import { ClusterStore } from './cluster/store/cluster-store.ts';
import { parseAttributes, parseResources } from './cluster/resources/parse.ts';
import type { ServerConfig } from './config/server-config.ts';
import { formatListenAddress } from './config/listen-address.ts';
import { createRegistry, ensurePlatformRobot } from './registry/index.ts';
import { scheduleGarbageCollection } from './registry/gc/gc-schedule.ts';
import { createApp } from './server/app.ts';
import { bootstrapTokens, type NewSecrets } from './server/bootstrap-tokens.ts';
import { trackRequestsInFlight, type TrackedListener } from './server/requests-in-flight.ts';
import { withWebhooks } from './server/webhook-listener.ts';
import { addExtraAcceptors } from './server/extra-acceptors.ts';
import { systemClock } from './shared/clock.ts';
import { restrictDataDir, type DataDirLayout } from './shared/data-dir-modes.ts';
import { Closers } from './shared/closers.ts';
import { VERSION } from './shared/version.ts';
import { openStore, type Store } from './store/index.ts';
import { Unavailable } from './shared/errors.ts';

export interface RunningServer {
  url: string;
  registryUrl: string;
  store: Store;
  master: Master;
  batch: BatchService;
  ci: CiService;
  apps: AppsService;
  discovery: Discovery;
  localAgent: Agent | undefined;
  /** Secrets generated at this start (first start only), to show the operator once. */
  newSecrets: NewSecrets;
  /**
   * Stops the server. The embedded agent's tasks keep running, as after a crash, and the next start on
   * this data directory takes them back; with `drain` they are killed and reported lost first.
   */
  close(options?: { drain?: boolean }): Promise<void>;
}

export async function startServer(config: ServerConfig, logger: Logger = pino({ level: config.logLevel }, pino.destination(2))): Promise<RunningServer> {
  await mkdir(config.dataDir, { recursive: true });
  await restrictDataDir(config.dataDir, dataDirLayout(config));
  // Before anything starts: bad agent resources or attributes, or an unknown user in agent.taskUsers,
  // stop the start with one line.
  const agentLogger = logger.child({ component: 'agent', embedded: true });
  const embeddedAgent = config.localAgent
    ? {
        resources: parseResources(config.agent.resources ?? ''),
        attributes: parseAttributes(config.agent.attributes),
        taskUsers: await resolveTaskUsers(config.agent.taskUsers, agentLogger, parseUidRange(config.agent.taskUids, 'agent.taskUids (--agent-task-uids, GANTRY_TASK_UIDS)')),
        logger: agentLogger,
      }
    : undefined;
  // Everything started is stopped in the reverse order, by close() and by a start that fails half-way.
  const started = new Closers();
  try {
    return await startParts(config, embeddedAgent, started, logger);
  } catch (err) {
    await started.close().catch((closeErr: Error) => logger.warn({ err: closeErr.message }, 'a part started before the failure did not stop cleanly'));
    throw err;
  }
}

/** The embedded agent's settings, read and checked before anything starts. */
type EmbeddedAgentSettings = Pick<AgentAssembly, 'resources' | 'attributes' | 'taskUsers'> & { logger: Logger };

/** startServer's parts in the order they start, each added to `started` as soon as it has. */
async function startParts(config: ServerConfig, embeddedAgent: EmbeddedAgentSettings | undefined, started: Closers, logger: Logger): Promise<RunningServer> {
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  started.add(() => store.close());
  const newSecrets = await bootstrapTokens(store, { adminToken: config.adminToken, joinToken: config.joinToken });

  const clusterStore = new ClusterStore(store.knex);
  const logs = new TaskLogStore(path.join(config.dataDir, 'logs'), {
    ...(config.taskLogs.maxBytesPerTask > 0 ? { maxBytesPerTask: config.taskLogs.maxBytesPerTask } : {}),
    removals: clusterStore.tasks,
  });
  const logRetention =
    config.taskLogs.retentionMs > 0
      ? new LogRetention({ tasks: clusterStore.tasks, logs, clock: systemClock, retentionMs: config.taskLogs.retentionMs, logger: logger.child({ component: 'task-logs' }) })
      : undefined;
  const master = new Master({
    store: clusterStore,
    logs,
    clock: systemClock,
    rng: Math.random,
    logger: logger.child({ component: 'master' }),
    defaultStrategy: config.placement.strategy,
    heartbeatTimeoutMs: config.heartbeatTimeoutMs,
  });
  await master.start();
  started.add(() => master.stop());
  if (logRetention) {
    logRetention.start();
    started.add(() => logRetention.stop());
  }
  // The bundled registry as agents and CI steps reach it, with the platform robot: known once the
  // registry listens (agents cannot register before the API listens; a step relaunched while the
  // server starts goes without the registry variables).
  let registryAccess: RegistryAccess | undefined;
  const batch = new BatchService({ knex: store.knex, cluster: clusterClient(master), clock: systemClock, logger: logger.child({ component: 'batch' }) });
  await batch.start();
  started.add(() => batch.stop());
  // Before the CI: a deploy step the CI recovers at its start follows a deployment of the apps.
  const apps = new AppsService({
    knex: store.knex,
    cluster: clusterClient(master),
    logger: logger.child({ component: 'apps' }),
    progressDeadlineSeconds: Math.ceil(config.apps.progressDeadlineMs / 1000),
    drainDelayMs: config.apps.drainDelayMs,
    exposure: { check: (app, others) => checkExposure(app, others, { servicePorts: config.discovery.servicePorts, httpPort: config.discovery.lbHttpPort }) },
  });
  await apps.start();
  started.add(() => apps.stop());
  // After the apps (it follows their instances), before the API (whose routes read it).
  const discovery = new Discovery({ source: apps.endpoints, logger: logger.child({ component: 'discovery' }), dataDir: config.dataDir, ...config.discovery });
  await discovery.start();
  started.add(() => discovery.close());
  if (discovery.dnsAddress) logger.info({ dns: formatListenAddress(discovery.dnsAddress), domain: config.discovery.domain }, 'DNS listening');
  const ci = new CiService({
    knex: store.knex,
    cluster: clusterClient(master),
    clock: systemClock,
    logger: logger.child({ component: 'ci' }),
    dataDir: config.dataDir,
    pipelinesDir: config.ci.pipelinesDir,
    webhookSecrets: config.ci.webhookSecrets,
    gitlabTokens: config.ci.gitlab.webhookTokens,
    registry: () => registryAccess,
    deployer: new ImageRollout(apps),
  });
  if (config.ci.github.token) {
    const statuses = new GitHubStatusReporter({ ...config.ci.github, token: config.ci.github.token, logger: logger.child({ component: 'github-status' }) });
    ci.subscribe((run) => void statuses.report(run));
  }
  if (config.ci.gitlab.url && config.ci.gitlab.token) {
    const { url, token } = config.ci.gitlab;
    const statuses = new GitLabStatusReporter({ url, token, ...(config.ci.github.publicUrl ? { publicUrl: config.ci.github.publicUrl } : {}), logger: logger.child({ component: 'gitlab-status' }) });
    ci.subscribe((run) => void statuses.report(run));
  }
  await ci.start();
  started.add(() => ci.stop());

  const registry = createRegistry({
    root: path.join(config.dataDir, 'registry'),
    knex: store.knex,
    isAdminToken: async (secret) => (await store.tokens.findBySecret(secret))?.kind === 'admin',
    reserves: config.registry,
    logger: logger.child({ component: 'registry' }),
    ...(config.registry.externalUrl !== undefined ? { externalUrl: config.registry.externalUrl } : {}),
  });
  const robot = await ensurePlatformRobot(registry.auth.users, path.join(config.dataDir, 'secrets'));
  const gcSchedule = scheduleGarbageCollection(registry.gc, registry.gcRuns, registry.retention, {
    intervalMs: config.registry.gcIntervalMs,
    graceMs: config.registry.gcGraceMs,
    logger: logger.child({ component: 'registry-gc' }),
  });
  started.add(() => gcSchedule.stop());
  const apiLogger = logger.child({ component: 'api' });
  const app = createApp({ store, master, logs, registry, batch, ci, apps, discovery, registryAccess: () => registryAccess, logger: apiLogger, version: VERSION });
  const platformRequests = trackRequestsInFlight(withWebhooks({ '/hooks/github': ci.receiver, '/hooks/gitlab': ci.gitlabReceiver }, apiLogger, app.callback()));
  const server = http.createServer(platformRequests.listener);
  // Long polls and followed logs hold requests open; don't let Node's default timeouts cut them.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  await listen(server, config.listen);
  started.add(() => closeListener(server, platformRequests));
  const url = urlOf(server);
  logger.info({ url, dataDir: config.dataDir, store: store.kind }, 'platform API listening');
  // Made while the server already serves on its own handle (a helper process takes ~50 ms).
  const extraAcceptors = addExtraAcceptors(server, EXTRA_ACCEPTORS, apiLogger);
  void extraAcceptors.ready.then((count) => logger.debug({ count }, 'more handles accept on the platform port'));
  started.add(() => extraAcceptors.close());

  const registryRequests = trackRequestsInFlight(registry.app.callback());
  const registryServer = http.createServer(registryRequests.listener);
  registryServer.requestTimeout = 0;
  await listen(registryServer, config.registryListen);
  started.add(() => closeListener(registryServer, registryRequests));
  const registryUrl = urlOf(registryServer);
  logger.info({ url: registryUrl }, 'registry listening');
  registryAccess = { url: config.registry.externalUrl ?? registryUrl, ...robot };

  // Again, for what this start made (the store file at a first start).
  await restrictDataDir(config.dataDir, dataDirLayout(config));
  let localAgent: Agent | undefined;
  // A stop leaves the embedded agent's tasks running unless close() is asked to drain it.
  let drainOnClose = false;
  if (embeddedAgent) {
    const { logger: agentLogger, ...settings } = embeddedAgent;
    const agent = await assembleAgent(
      {
        link: new LocalMasterLink(master, () => registryAccess),
        workDir: path.join(config.dataDir, EMBEDDED_AGENT_DIR),
        hostname: config.agent.hostname,
        ...settings,
        drivers: {
          keepExitedMs: config.agent.containerGcDelayMs,
          ...(config.agent.pruneImagesAfterMs !== undefined ? { pruneImagesAfterMs: config.agent.pruneImagesAfterMs } : {}),
          cgroupFavorDynmods: config.agent.cgroupFavorDynmods,
        },
        usageIntervalMs: config.agent.usageIntervalMs,
      },
      agentLogger,
    );
    await agent.start();
    started.add(() => (drainOnClose ? agent.drain() : agent.stop()));
    localAgent = agent;
  }

  return {
    url,
    registryUrl,
    store,
    master,
    batch,
    ci,
    apps,
    discovery,
    localAgent,
    newSecrets,
    async close(options = {}) {
      drainOnClose = options.drain === true;
      await started.close();
    },
  };
}

/** The embedded agent's work dir in the data directory. */
const EMBEDDED_AGENT_DIR = 'agent';
/** The server's own directories in the data directory (see "Where data lives" in docs/ARCHITECTURE.md). */
const SERVER_ONLY_DIRS = ['logs', 'registry', 'secrets', 'ci'];

/**
 * Tasks run on this host: the data directory is the server's alone, but for the agent's work dir and
 * the passage (0711) to the CI git mirrors its clone steps borrow.
 */
function dataDirLayout(config: ServerConfig): DataDirLayout {
  return config.localAgent
    ? { reachable: [EMBEDDED_AGENT_DIR], serverOnly: SERVER_ONLY_DIRS, passage: MIRRORS_DIR }
    : { reachable: [], serverOnly: SERVER_ONLY_DIRS };
}

/**
 * Handles on the platform port beside the server's own: the connections accepted per turn of the
 * event loop in a burst (src/server/extra-acceptors.ts; 50 at once are taken in ~7 turns, not 50).
 */
const EXTRA_ACCEPTORS = 7;

/** Listens on the address, turning the usual failures into one clear sentence. */
async function listen(server: http.Server, address: ServerConfig['listen']): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address.port, address.host, () => resolve());
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the address is in use' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new Unavailable(`cannot listen on ${formatListenAddress(address)}: ${why}`);
  }
}

/** Closes the listener and the connections it holds (long polls and followed logs would keep it open). */
/**
 * Stops accepting, ends the connections (long polls and followed logs see their request close), and
 * waits for the handlers still at work: they may still need the store, which closes after this.
 */
async function closeListener(listener: http.Server, requests: TrackedListener): Promise<void> {
  const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
  listener.closeAllConnections();
  await requests.settled(HANDLERS_SETTLE_MS);
  await closed;
}

/** The longest a stop waits for the requests still being handled (a handler stuck past this is left). */
const HANDLERS_SETTLE_MS = 10_000;

function urlOf(server: http.Server): string {
  const address = server.address() as AddressInfo;
  return `http://${formatListenAddress({ host: address.address, port: address.port })}`;
}
