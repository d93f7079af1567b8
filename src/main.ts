// The composition root: opens the store, wires the master, the API and the embedded agent, and
// starts listening. It holds no logic of its own.
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { Agent } from './cluster/agent/agent.ts';
import { detectResources, mergeResources } from './cluster/agent/detect-resources.ts';
import { LocalMasterLink } from './cluster/agent/local-master-link.ts';
import { createExecDriver } from './cluster/drivers/exec.ts';
import { Master } from './cluster/master/master.ts';
import { TaskLogStore } from './cluster/master/task-logs.ts';
import { parseAttributes, parseResources } from './cluster/resources/parse.ts';
import type { ServerConfig } from './config/server-config.ts';
import { formatListenAddress } from './config/listen-address.ts';
import { createApp } from './server/app.ts';
import { bootstrapTokens, type NewSecrets } from './server/bootstrap-tokens.ts';
import { systemClock } from './shared/clock.ts';
import { VERSION } from './shared/version.ts';
import { openStore, type Store } from './store/index.ts';
import { Unavailable } from './shared/errors.ts';

export interface RunningServer {
  url: string;
  store: Store;
  master: Master;
  localAgent: Agent | undefined;
  /** Secrets generated at this start (first start only), to show the operator once. */
  newSecrets: NewSecrets;
  close(): Promise<void>;
}

export async function startServer(config: ServerConfig, logger: Logger = pino({ level: config.logLevel }, pino.destination(2))): Promise<RunningServer> {
  await mkdir(config.dataDir, { recursive: true });
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  const newSecrets = await bootstrapTokens(store, { adminToken: config.adminToken, joinToken: config.joinToken });

  const logs = new TaskLogStore(path.join(config.dataDir, 'logs'));
  const master = new Master({
    store,
    logs,
    clock: systemClock,
    rng: Math.random,
    logger: logger.child({ component: 'master' }),
    defaultStrategy: config.placement.strategy,
    heartbeatTimeoutMs: config.heartbeatTimeoutMs,
  });
  await master.start();

  const app = createApp({ store, master, logs, logger: logger.child({ component: 'api' }), version: VERSION });
  const server = http.createServer(app.callback());
  // Long polls and followed logs hold requests open; don't let Node's default timeouts cut them.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.listen.port, config.listen.host, () => resolve());
    });
  } catch (err) {
    master.stop();
    await store.close();
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the address is in use' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new Unavailable(`cannot listen on ${formatListenAddress(config.listen)}: ${why}`);
  }
  const address = server.address() as AddressInfo;
  const url = `http://${formatListenAddress({ host: address.address, port: address.port })}`;
  logger.info({ url, dataDir: config.dataDir, store: store.kind }, 'platform API listening');

  let localAgent: Agent | undefined;
  if (config.localAgent) {
    const link = new LocalMasterLink(master);
    const workDir = path.join(config.dataDir, 'agent');
    await mkdir(workDir, { recursive: true });
    localAgent = new Agent({
      link,
      drivers: [createExecDriver({ log: (msg: string) => logger.warn({ component: 'exec' }, msg) })],
      workDir,
      hostname: config.agent.hostname ?? os.hostname(),
      resources: mergeResources(detectResources(workDir), parseResources(config.agent.resources ?? '')),
      attributes: parseAttributes(config.agent.attributes),
      logger: logger.child({ component: 'agent', embedded: true }),
    });
    await localAgent.start();
  }

  return {
    url,
    store,
    master,
    localAgent,
    newSecrets,
    async close() {
      await localAgent?.stop();
      master.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
    },
  };
}
