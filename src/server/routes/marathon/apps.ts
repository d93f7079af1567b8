// Marathon's /v2/apps (api/v2/AppsResource.scala, AppTasksResource.scala, AppVersionsResource.scala;
// docs/docs/rest-api/public/api/v2/apps.raml). App ids hold slashes, so an app's routes match
// `/v2/apps/*id` and its sub-resources `/v2/apps/*id/restart|tasks|versions` are registered first: a
// route that matches answers, and Marathon's ids never end in restart, tasks or versions (reserved), so
// `/v2/apps/prod/web/tasks` is the tasks of /prod/web and never an app.
//
// As Marathon: GET of the list embeds counts and deployments whatever is asked; GET of one app embeds
// counts, tasks, deployments and the last task failure, wrapped as {app}; PUT is a partial update unless
// ?partialUpdate=false, creates the app when it is missing (201) and answers {deploymentId, version};
// PATCH never creates; DELETE supersedes a running deployment unless ?force=false (Marathon's default
// there is true); a change answers with the header Marathon-Deployment-Id.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { absoluteId, resolveAppId, type AppsService } from '../../../apps/index.ts';
import type { Master, TaskRecord } from '../../../cluster/index.ts';
import { Conflict, NotFound } from '../../../shared/errors.ts';
import { embedsOf, marathonApp, marathonDefinition, marathonTask, marathonTasks, versionJson } from './json.ts';
import { matchesLabels, parseLabelSelectors } from './label-selector.ts';
import { SerializedApps } from './serialized-apps.ts';
import { appExists, appIdOf, appView, deploymentHeader, flag, lastOf, objectBody, unknownApp, values } from './request.ts';

export function marathonAppRoutes(router: Router, apps: AppsService, master: Master): void {
  const serialized = new SerializedApps();
  router.get('/v2/apps', (ctx) => {
    const id = lastOf(ctx.query.id)?.toLowerCase();
    const cmd = lastOf(ctx.query.cmd)?.toLowerCase();
    const label = lastOf(ctx.query.label);
    const selectors = label !== undefined ? parseLabelSelectors(label) : [];
    const embeds = embedsOf(values(ctx, 'embed'), ['counts', 'deployments']);
    // Marathon's search: id and cmd contain the value (case-insensitive), labels match every selector.
    const listed = apps
      .listApps()
      .filter((view) => id === undefined || view.definition.id.toLowerCase().includes(id))
      .filter((view) => cmd === undefined || (view.definition.cmd ?? '').toLowerCase().includes(cmd))
      .filter((view) => matchesLabels(selectors, view.definition.labels));
    // Text, not an object: most apps' JSON is unchanged since the last listing and comes from the cache.
    ctx.type = 'application/json';
    ctx.body = serialized.body(listed, embeds, id === undefined && cmd === undefined && selectors.length === 0);
  });

  router.post('/v2/apps', async (ctx) => {
    const body = objectBody(ctx);
    const resolved = typeof body.id === 'string' ? resolveAppId(body.id) : null;
    if (resolved && 'id' in resolved && appExists(apps, resolved.id)) {
      throw new Conflict(`An app with id [${resolved.id}] already exists.`);
    }
    const created = await apps.createApp(body, { force: flag(ctx, 'force') });
    const app = marathonApp(created.app, embedsOf([], ['counts', 'deployments']));
    // What the change started, as Marathon answers a create (AppInfo with the plan's id as its deployment).
    app.deployments = [{ id: created.deploymentId }];
    ctx.status = 201;
    ctx.set('Location', `/v2/apps${created.app.definition.id}`);
    deploymentHeader(ctx, created.deploymentId);
    ctx.body = app;
  });

  // Sub-resources before the app itself (see the top of the file).
  router.get('/v2/apps/*id/tasks', (ctx) => {
    const view = appView(apps, appIdOf(ctx));
    ctx.body = { tasks: marathonTasks(view.tasks, view.definition) };
  });

  router.delete('/v2/apps/*id/tasks/:taskId', async (ctx) => {
    const view = appView(apps, appIdOf(ctx));
    const task = view.tasks.find((t) => t.id === ctx.params.taskId);
    if (!task) throw new NotFound(`Task '${ctx.params.taskId}' does not exist`);
    if (flag(ctx, 'scale')) {
      const { deployment } = await apps.killTasks([task.id], { scale: true, force: flag(ctx, 'force') });
      ctx.body = deployment;
      return;
    }
    ctx.body = { task: marathonTask(await killTask(master, task), view.definition) };
  });

  // All the app's tasks, or those on one agent (?host=; `*` for all).
  router.delete('/v2/apps/*id/tasks', async (ctx) => {
    const view = appView(apps, appIdOf(ctx));
    const host = lastOf(ctx.query.host);
    const chosen = view.tasks.filter((t) => host === undefined || host === '*' || t.allocation?.host === host);
    if (flag(ctx, 'scale')) {
      const { deployment } = await apps.killTasks(chosen.map((t) => t.id), { scale: true, force: flag(ctx, 'force') });
      ctx.body = deployment ?? { tasks: [] };
      return;
    }
    const killed: TaskRecord[] = [];
    for (const task of chosen) killed.push(await killTask(master, task));
    ctx.body = { tasks: killed.map((t) => marathonTask(t, view.definition)) };
  });

  router.get('/v2/apps/*id/versions', async (ctx) => {
    const id = appIdOf(ctx);
    appView(apps, id);
    ctx.body = { versions: await apps.versions(id) };
  });

  router.get('/v2/apps/*id/versions/:version', async (ctx) => {
    const id = appIdOf(ctx);
    appView(apps, id);
    try {
      const found = await apps.version(id, ctx.params.version!);
      ctx.body = { ...marathonDefinition(found.definition), ...versionJson(found.version, found.lastConfigChangeAt) };
    } catch (err) {
      if (err instanceof NotFound) throw unknownApp(id, ctx.params.version);
      throw err;
    }
  });

  router.post('/v2/apps/*id/restart', async (ctx) => {
    const id = appIdOf(ctx);
    appView(apps, id);
    deploymentResult(ctx, await apps.restartApp(id, { force: flag(ctx, 'force') }));
  });

  router.get('/v2/apps/*id', (ctx) => {
    const embeds = embedsOf(values(ctx, 'embed'), ['counts', 'tasks', 'lastTaskFailure', 'deployments']);
    const raw = String(ctx.params.id);
    // `/v2/apps/prod/*`: every app of group /prod, as {"*": [...]}.
    if (raw === '*' || raw.endsWith('/*')) {
      const group = absoluteId(raw.slice(0, -1));
      const prefix = group === '/' ? '/' : `${group}/`;
      ctx.body = { '*': apps.listApps({ idPrefix: prefix }).map((view) => marathonApp(view, embeds)) };
      return;
    }
    ctx.body = { app: marathonApp(appView(apps, appIdOf(ctx)), embeds) };
  });

  router.put('/v2/apps/*id', async (ctx) => {
    const id = appIdOf(ctx);
    const result = await apps.putApp(id, objectBody(ctx), { force: flag(ctx, 'force'), partial: flag(ctx, 'partialUpdate', true) });
    if (result.created) ctx.set('Location', `/v2/apps${id}`);
    deploymentResult(ctx, result, result.created ? 201 : 200);
  });

  router.patch('/v2/apps/*id', async (ctx) => {
    const id = appIdOf(ctx);
    appView(apps, id);
    deploymentResult(ctx, await apps.putApp(id, objectBody(ctx), { force: flag(ctx, 'force'), partial: true }));
  });

  router.delete('/v2/apps/*id', async (ctx) => {
    const id = appIdOf(ctx);
    appView(apps, id);
    deploymentResult(ctx, await apps.deleteApp(id, { force: flag(ctx, 'force', true) }));
  });
}

/** {deploymentId, version} (deploymentResult.raml), with Marathon's header. */
export function deploymentResult(ctx: Context, result: { deploymentId: string; version: string }, status = 200): void {
  ctx.status = status;
  deploymentHeader(ctx, result.deploymentId);
  ctx.body = { deploymentId: result.deploymentId, version: result.version };
}

/**
 * Kills an app's task without scaling: the pool kills it, and the app replaces it (a task ended on
 * request does not count as a failure, so no launch delay), as Marathon's kill without ?scale does.
 */
export function killTask(master: Master, task: TaskRecord): Promise<TaskRecord> {
  return master.kill(task.id, 'killed through the Marathon API');
}
