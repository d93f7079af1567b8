// Assembles the platform API: error mapping, body parsing, authentication, and each folder's routes.
import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Logger } from 'pino';
import type { Master } from '../cluster/master/master.ts';
import type { RegistryAccess } from '../cluster/protocol.ts';
import type { TaskLogStore } from '../cluster/master/task-logs.ts';
import type { Registry } from '../registry/index.ts';
import type { Store } from '../store/index.ts';
import { requireAdmin } from './auth.ts';
import { errorMiddleware } from './errors.ts';
import type { BatchService } from '../batch/index.ts';
import type { CiService } from '../ci/index.ts';
import { agentRoutes } from './routes/agents.ts';
import { chronosRoutes } from './routes/chronos.ts';
import { ciRoutes } from './routes/ci.ts';
import { imageRoutes } from './routes/images.ts';
import { jobRoutes } from './routes/jobs.ts';
import { registryAccessRoutes } from './routes/registry-access.ts';
import { registryRoutes } from './routes/registry.ts';
import { registryRetentionRoutes } from './routes/registry-retention.ts';
import { registryBrowseRoutes } from './routes/registry-browse.ts';
import { webUiRoutes } from './routes/web-ui.ts';
import { taskRoutes } from './routes/tasks.ts';

export interface AppParts {
  store: Store;
  registry: Pick<Registry, 'blobs' | 'metadata' | 'auth' | 'gc' | 'gcRuns' | 'retention' | 'quotas'>;
  batch: BatchService;
  ci: CiService;
  master: Master;
  logs: TaskLogStore;
  logger: Logger;
  version: string;
  /** The platform robot's registry credentials, handed to agents as they register. */
  registryAccess?: () => RegistryAccess | undefined;
}

export function createApp(parts: AppParts): Koa {
  const app = new Koa();
  app.proxy = false;
  app.use(errorMiddleware(parts.logger));
  // POST /hooks/github never reaches koa: the HTTP server answers it (webhook-listener.ts).
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: '16mb', encoding: 'utf-8' }));

  const open = new Router();
  open.get('/api/v1/health', (ctx) => {
    ctx.body = { status: 'ok', version: parts.version };
  });
  app.use(open.routes());

  // Agents authenticate with their own tokens; these routes check them themselves.
  app.use(agentRoutes(parts.master, parts.store, parts.registryAccess).routes());

  // The web frontend's files (public; its data comes from the admin API below).
  app.use(webUiRoutes().routes());

  // Everything else on the platform API needs an admin token.
  const tasks = taskRoutes(parts.master, parts.logs);
  const admin = requireAdmin(parts.store);
  // The Chronos API too: it changes jobs, and job definitions run commands.
  app.use(async (ctx, next) => {
    // The frontend's registry views authenticate their callers themselves (registry users, with the ACL).
    if (ctx.path.startsWith('/api/v1/registry/browse/')) return next();
    if (ctx.path.startsWith('/api/') || ctx.path.startsWith('/scheduler/') || ctx.path.startsWith('/v1/scheduler/')) return admin(ctx, next);
    return next();
  });
  app.use(tasks.routes());
  app.use(imageRoutes(parts.master).routes());
  app.use(registryRoutes(parts.registry).routes());
  app.use(registryRetentionRoutes(parts.registry).routes());
  app.use(registryBrowseRoutes(parts.registry, parts.store.knex, () => registryHost(parts.registryAccess?.())).routes());
  app.use(registryAccessRoutes(parts.registry).routes());
  app.use(jobRoutes(parts.batch).routes());
  app.use(chronosRoutes(parts.batch).routes());
  app.use(ciRoutes(parts.ci).routes());
  return app;
}

/** host:port of the bundled registry as clients reach it, for the pull commands the frontend shows. */
function registryHost(access: RegistryAccess | undefined): string {
  try {
    return access ? new URL(access.url).host : 'REGISTRY';
  } catch {
    return 'REGISTRY';
  }
}
