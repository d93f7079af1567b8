// Assembles the platform API: error mapping, body parsing, and each folder's routes, each mounted guarded
// by the admin token or public with the reason.
import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Logger } from 'pino';
import type { Master, RegistryAccess, TaskLogStore } from '../cluster/index.ts';
import type { Registry } from '../registry/index.ts';
import type { Store } from '../store/index.ts';
import { requireAdmin } from './auth.ts';
import { errorMiddleware } from './errors.ts';
import { mountRoutes, type MountedRoute } from './mount-routes.ts';
import type { BatchService } from '../batch/index.ts';
import type { CiService } from '../ci/index.ts';
import type { AppsService } from '../apps/index.ts';
import type { Discovery } from '../discovery/index.ts';
import { discoveryRoutes } from './routes/discovery.ts';
import { agentRoutes } from './routes/agents.ts';
import { appRoutes } from './routes/apps.ts';
import { chronosRoutes } from './routes/chronos.ts';
import { ciRoutes } from './routes/ci.ts';
import { imageRoutes } from './routes/images.ts';
import { jobRoutes } from './routes/jobs.ts';
import { marathonErrors, marathonPingRoutes, marathonRoutes } from './routes/marathon/index.ts';
import { registryAccessRoutes } from './routes/registry-access.ts';
import { registryRoutes } from './routes/registry.ts';
import { registryRetentionRoutes } from './routes/registry-retention.ts';
import { registryBrowseRoutes } from './routes/registry-browse.ts';
import { webUiRoutes } from './routes/web-ui.ts';
import { taskRoutes } from './routes/tasks.ts';

export interface AppParts {
  store: Store;
  registry: Pick<Registry, 'blobs' | 'metadata' | 'auth' | 'gc' | 'gcRuns' | 'retention' | 'quotas' | 'browser'>;
  batch: BatchService;
  ci: CiService;
  apps: AppsService;
  discovery: Discovery;
  master: Master;
  logs: TaskLogStore;
  logger: Logger;
  version: string;
  /** The platform robot's registry credentials, handed to agents as they register. */
  registryAccess?: () => RegistryAccess | undefined;
}

/** The app, with the routes it mounted (method, path, and whether anyone may call it and why). */
export type ApiApp = Koa & { readonly mountedRoutes: readonly MountedRoute[] };

export function createApp(parts: AppParts): ApiApp {
  const app = new Koa();
  app.proxy = false;
  app.use(errorMiddleware(parts.logger));
  // Marathon's error shapes on /v2 (its API), ahead of the body parser so that bad JSON is answered in them too.
  app.use(marathonErrors());
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: '16mb', encoding: 'utf-8' }));

  // Every route needs an admin token unless it is mounted public here, saying why; so does any request
  // no route answers (mount-routes.ts). Public outside this table: POST /hooks/github, answered before
  // koa (webhook-listener.ts; its signature is its authentication), and the registry's OCI API on its
  // own listener (its users and ACL).
  const mountedRoutes = mountRoutes(app, requireAdmin(parts.store), [
    { router: healthRoutes(parts.version), public: 'health checks call it without a token' },
    // People's routes in the agents' router (listing agents, minting join tokens) keep requireAdmin on
    // themselves, and are listed as guarded.
    { router: agentRoutes(parts.master, parts.store, parts.registryAccess), public: 'the agents\' own calls: each checks the join token (register) or the agent\'s token itself' },
    { router: webUiRoutes(), public: 'the web frontend\'s files; what they show comes from the admin API' },
    { router: taskRoutes(parts.master, parts.logs) },
    { router: imageRoutes(parts.master) },
    { router: registryRoutes(parts.registry) },
    { router: registryRetentionRoutes(parts.registry) },
    {
      router: registryBrowseRoutes(parts.registry, () => registryHost(parts.registryAccess?.())),
      public: 'the registry frontend: callers sign in as the registry knows them (admin token, or a registry user) and the registry ACL decides',
    },
    { router: registryAccessRoutes(parts.registry) },
    { router: jobRoutes(parts.batch) },
    // The Chronos API too: it changes jobs, and job definitions run commands.
    { router: chronosRoutes(parts.batch) },
    { router: ciRoutes(parts.ci) },
    { router: appRoutes(parts.apps) },
    // The Marathon API too: it changes apps, whose definitions run commands.
    { router: marathonRoutes({ apps: parts.apps, master: parts.master, version: parts.version, services: () => parts.discovery.snapshot() }) },
    { router: discoveryRoutes(parts.discovery) },
    {
      router: marathonPingRoutes(),
      public: 'Marathon\'s /ping: load balancers and liveness checks call it without a token (Marathon asks none); it answers pong and nothing else',
    },
  ]);
  return Object.assign(app, { mountedRoutes });
}

function healthRoutes(version: string): Router {
  const router = new Router();
  router.get('/api/v1/health', (ctx) => {
    ctx.body = { status: 'ok', version };
  });
  return router;
}

/** host:port of the bundled registry as clients reach it, for the pull commands the frontend shows. */
function registryHost(access: RegistryAccess | undefined): string {
  try {
    return access ? new URL(access.url).host : 'REGISTRY';
  } catch {
    return 'REGISTRY';
  }
}
