// Marathon's REST API on the platform port (docs/docs/rest-api/public/api/v2/*.raml of mesosphere/marathon),
// over the apps domain: /v2/apps (apps.ts), /v2/groups (groups.ts), /v2/tasks, /v2/deployments, /v2/queue,
// /v2/info, /v2/events (events.ts) and /ping. Marathon's JSON shapes are in json.ts, its error shapes in
// errors.ts (mounted on the app, ahead of the body parser). Not served: /v2/pods, PUT and PATCH of several
// apps at once (/v2/apps), /v2/leader, /v2/plugins, DELETE /v2/queue/ID/delay.
import Router from '@koa/router';
import type { AppsService, AppView } from '../../../apps/index.ts';
import type { Master, TaskRecord } from '../../../cluster/index.ts';
import { Invalid, NotFound } from '../../../shared/errors.ts';
import type { SseOptions } from '../../sse.ts';
import { deploymentResult, killTask, marathonAppRoutes } from './apps.ts';
import { marathonEventRoutes } from './events.ts';
import { marathonGroupRoutes } from './groups.ts';
import { marathonDeployment, marathonQueueItem, marathonTask } from './json.ts';
import { flag, objectBody, values } from './request.ts';
import { endpointsText } from './endpoints-text.ts';
import type { CatalogSnapshot } from '../../../discovery/index.ts';

export { marathonErrors } from './errors.ts';

export interface MarathonParts {
  apps: AppsService;
  master: Master;
  version: string;
  sse?: SseOptions;
  /** The service catalog, for /v2/tasks in text (the format marathon-lb-style tools read). */
  services?: () => CatalogSnapshot;
}

export function marathonRoutes(parts: MarathonParts): Router {
  const { apps, master } = parts;
  const router = new Router();
  marathonAppRoutes(router, apps, master);
  marathonGroupRoutes(router, apps);

  // Every app's tasks; ?status=running|staging (or status[]=...) keeps those in TASK_RUNNING or TASK_STAGING
  // (TasksResource: other values are ignored; a task being killed is neither).
  router.get('/v2/tasks', (ctx) => {
    if (parts.services && ctx.accepts('application/json', 'text/plain') === 'text/plain') {
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = endpointsText(parts.services());
      return;
    }
    const wanted = new Set<string>([...values(ctx, 'status'), ...values(ctx, 'status[]')].map((s) => s.toLowerCase()).filter((s) => s === 'running' || s === 'staging'));
    const tasks = apps.listApps().flatMap((view) =>
      view.tasks
        .filter((t) => t.state !== 'queued')
        .map((t) => marathonTask(t, view.definition))
        .filter((t) => wanted.size === 0 || wanted.has(String(t.state).replace(/^TASK_/, '').toLowerCase())),
    );
    ctx.body = { tasks };
  });

  // Kills tasks of any apps by id ({ids: [...]}). Unknown ids are refused before anything is killed.
  router.post('/v2/tasks/delete', async (ctx) => {
    const ids = objectBody(ctx).ids;
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) throw new Invalid('send {"ids": ["task id", ...]}');
    const owners = new Map<string, { task: TaskRecord; view: AppView }>();
    for (const view of apps.listApps()) for (const task of view.tasks) owners.set(task.id, { task, view });
    const unknown = ids.filter((id) => !owners.has(id));
    if (unknown.length > 0) throw new Invalid(`Invalid task id${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}`);
    // With scale: each app's count drops by its tasks killed, those very tasks (Marathon answers the deployment).
    if (flag(ctx, 'scale')) {
      const { deployment } = await apps.killTasks(ids as string[], { scale: true, force: flag(ctx, 'force') });
      ctx.body = deployment;
      return;
    }
    const killed = [];
    for (const id of new Set(ids as string[])) {
      const { task, view } = owners.get(id)!;
      killed.push(marathonTask(await killTask(master, task), view.definition));
    }
    ctx.body = { tasks: killed };
  });

  router.get('/v2/deployments', (ctx) => {
    ctx.body = apps.deployments().map(marathonDeployment);
  });

  // Cancel: rolled back by a new deployment (200 {deploymentId, version}); ?force=true stops it where it
  // stands, no new deployment (202, no body), as Marathon. 202 too when there is nothing to go back to.
  router.delete('/v2/deployments/:id', async (ctx) => {
    const id = ctx.params.id!;
    if (!apps.deployments().some((d) => d.record.id === id)) throw new NotFound(`DeploymentPlan ${id} does not exist`);
    const rollback = await apps.cancelDeployment(id, { force: flag(ctx, 'force') });
    if (rollback === null) {
      ctx.status = 202;
      return;
    }
    deploymentResult(ctx, rollback);
  });

  router.get('/v2/queue', (ctx) => {
    const queue = apps.queue().map((item) => {
      let view: AppView | null = null;
      try {
        view = apps.getApp(item.appId);
      } catch (err) {
        if (!(err instanceof NotFound)) throw err;
      }
      const waiting = (view?.tasks ?? []).filter((t) => t.state === 'queued').map((t) => t.createdAt).sort();
      return marathonQueueItem(item, view, waiting[0] ?? null);
    });
    ctx.body = { queue };
  });

  // What Marathon clients read of /v2/info (InfoResource): who answers, its version, that it leads. No
  // ZooKeeper: the store is SQLite or PostgreSQL, so zookeeper_config is absent.
  router.get('/v2/info', (ctx) => {
    const [hostname, port] = splitHost(ctx.host);
    ctx.body = {
      name: 'gantry',
      version: parts.version,
      buildref: 'unknown',
      elected: true,
      leader: ctx.host,
      frameworkId: 'gantry',
      marathon_config: {
        features: [],
        framework_name: 'gantry',
        ha: false,
        hostname,
        master: 'gantry',
        task_lost_expunge_initial_delay: 0,
        task_lost_expunge_interval: 0,
      },
      http_config: { http_port: port, https_port: 0 },
    };
  });

  marathonEventRoutes(router, apps, parts.sse);
  return router;
}

/** GET /ping: `pong` (general/ping.raml), for load balancers and liveness checks. */
export function marathonPingRoutes(): Router {
  const router = new Router();
  router.get('/ping', (ctx) => {
    ctx.type = 'text/plain';
    ctx.set('cache-control', 'must-revalidate,no-cache,no-store');
    ctx.body = 'pong';
  });
  return router;
}

function splitHost(host: string): [string, number] {
  const match = /^(.*?)(?::(\d+))?$/.exec(host);
  return [match?.[1] ?? host, match?.[2] ? Number(match[2]) : 80];
}
