// /api/v1/apps and /api/v1/deployments: the apps model in the house JSON and errors ({error, message};
// an invalid definition is a 400 whose details list the problems by field), for the CLI. The same
// service as Marathon's /v2 (routes/marathon/), thin: the answers are the service's views, tasks shown
// without their secrets. App ids hold slashes: an app's sub-resources are matched first (see
// routes/marathon/apps.ts), and its id is read as Marathon reads it (`prod/web` is `/prod/web`).
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { absoluteId, parseSteps, type AppView, type AppsService, type DeploymentView } from '../../apps/index.ts';
import { parseDuration } from '../../shared/duration.ts';
import { redactedTask } from '../../cluster/index.ts';
import { Invalid, NotFound } from '../../shared/errors.ts';
import { parseInput } from '../parse.ts';

const forceQuery = z.object({ force: z.enum(['true', 'false', '1', '0']).optional() });
const scaleBody = z.object({ instances: z.number().int().min(0) });
const rollbackBody = z.object({ version: z.string().min(1).optional() });
const blueGreenBody = z.object({
  app: z.record(z.string(), z.unknown()),
  /** Green's share at each step: `10,50,100` or [10, 50, 100]; default all at once. */
  steps: z.union([z.string(), z.array(z.number())]).optional(),
  /** Each step is held this long; absent: until promoted. */
  pause: z.string().optional(),
  /** The blue is kept this long at 0 % (default 5 minutes). */
  rollbackWindow: z.string().optional(),
});
const DEFAULT_ROLLBACK_WINDOW_MS = 5 * 60_000;

export function appRoutes(apps: AppsService): Router {
  const router = new Router();

  // Apps without their tasks (?tasks=true adds them); ?id= keeps those under a group.
  router.get('/api/v1/apps', (ctx) => {
    const prefix = typeof ctx.query.id === 'string' ? ctx.query.id : undefined;
    const withTasks = ctx.query.tasks === 'true' || ctx.query.tasks === '1';
    ctx.body = { apps: apps.listApps(prefix !== undefined ? { idPrefix: prefix } : {}).map((view) => appJson(view, withTasks)) };
  });

  router.post('/api/v1/apps', async (ctx) => {
    const created = await apps.createApp(body(ctx), { force: force(ctx) });
    ctx.status = 201;
    ctx.body = { deploymentId: created.deploymentId, version: created.version, app: appJson(created.app, true) };
  });

  // Blue-green and canary: the new version as a second app of the live one's group, traffic moved in steps.
  router.post('/api/v1/blue-green', async (ctx) => {
    const input = parseInput(blueGreenBody, (ctx.request as { body?: unknown }).body);
    const settings = {
      steps: parseSteps(input.steps ?? ''),
      pauseMs: input.pause === undefined ? null : parseDuration(input.pause, 'pause'),
      rollbackWindowMs: input.rollbackWindow === undefined ? DEFAULT_ROLLBACK_WINDOW_MS : parseDuration(input.rollbackWindow, 'rollbackWindow'),
    };
    const started = await apps.deployBlueGreen(input.app, settings);
    ctx.status = 201;
    ctx.body = started;
  });

  router.get('/api/v1/blue-green', async (ctx) => {
    ctx.body = { active: apps.switches.list(), recent: await apps.switches.recent() };
  });

  router.post('/api/v1/apps/*id/promote', (ctx) => {
    ctx.body = apps.switches.promote(appId(ctx));
  });

  router.post('/api/v1/apps/*id/abort', async (ctx) => {
    ctx.body = await apps.switches.abort(appId(ctx));
  });

  router.post('/api/v1/apps/*id/scale', async (ctx) => {
    const { instances } = parseInput(scaleBody, (ctx.request as { body?: unknown }).body);
    ctx.body = await apps.scaleApp(appId(ctx), instances, { force: force(ctx) });
  });

  router.post('/api/v1/apps/*id/restart', async (ctx) => {
    ctx.body = await apps.restartApp(appId(ctx), { force: force(ctx) });
  });

  router.post('/api/v1/apps/*id/rollback', async (ctx) => {
    const { version } = parseInput(rollbackBody, (ctx.request as { body?: unknown }).body ?? {});
    ctx.body = await apps.rollbackApp(appId(ctx), version, { force: force(ctx) });
  });

  router.get('/api/v1/apps/*id/tasks', (ctx) => {
    ctx.body = { tasks: apps.tasks(appId(ctx)).map(redactedTask) };
  });

  router.get('/api/v1/apps/*id/versions', async (ctx) => {
    ctx.body = { versions: await apps.versions(appId(ctx)) };
  });

  router.get('/api/v1/apps/*id/versions/:version', async (ctx) => {
    ctx.body = await apps.version(appId(ctx), ctx.params.version!);
  });

  router.get('/api/v1/apps/*id', (ctx) => {
    ctx.body = appJson(apps.getApp(appId(ctx)), true);
  });

  // Create or replace (the whole definition; the id is the path's).
  router.put('/api/v1/apps/*id', async (ctx) => {
    const result = await apps.putApp(appId(ctx), body(ctx), { force: force(ctx) });
    ctx.status = result.created ? 201 : 200;
    ctx.body = result;
  });

  router.delete('/api/v1/apps/*id', async (ctx) => {
    ctx.body = await apps.deleteApp(appId(ctx), { force: force(ctx) });
  });

  router.get('/api/v1/deployments', (ctx) => {
    ctx.body = { deployments: apps.deployments().map(deploymentJson) };
  });

  // One deployment in any state: running, or how it ended and why (a follower's answer).
  router.get('/api/v1/deployments/:id', async (ctx) => {
    const record = await apps.deployment(ctx.params.id!);
    if (!record) throw new NotFound(`no deployment ${ctx.params.id}`);
    const { plan, ...rest } = record;
    ctx.body = { ...rest, steps: plan.steps, totalSteps: plan.steps.length };
  });

  // A group of apps (Marathon's group JSON), deployed in its dependencies' order.
  router.put('/api/v1/groups/*id', async (ctx) => {
    ctx.body = await apps.putGroup({ ...body(ctx), id: appId(ctx) }, { force: force(ctx) });
  });

  // Rolled back (a new deployment: {deploymentId, version}), or with ?force=true stopped where it stands ({canceled}).
  router.delete('/api/v1/deployments/:id', async (ctx) => {
    const rollback = await apps.cancelDeployment(ctx.params.id!, { force: force(ctx) });
    ctx.body = rollback ?? { canceled: ctx.params.id, rollback: null };
  });

  return router;
}

function appId(ctx: Context): string {
  return absoluteId(String(ctx.params.id ?? ''));
}

function force(ctx: Context): boolean {
  const { force: value } = parseInput(forceQuery, ctx.query, 'query');
  return value === 'true' || value === '1';
}

function body(ctx: Context): Record<string, unknown> {
  const value = (ctx.request as { body?: unknown }).body;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Invalid('send the app as a JSON object with Content-Type: application/json');
  return value as Record<string, unknown>;
}

/** An app: its view, tasks shown without their secrets (or left out of lists). */
function appJson(view: AppView, withTasks: boolean): Record<string, unknown> {
  const { definition, tasks, ...rest } = view;
  return { id: definition.id, ...rest, definition, ...(withTasks ? { tasks: tasks.map(redactedTask) } : {}) };
}

/** A running deployment: its record (plan, step, state), and the plan and current step as Marathon shows them. */
function deploymentJson(view: DeploymentView): Record<string, unknown> {
  const { plan: _plan, ...record } = view.record;
  return { ...record, steps: (view.plan as { steps?: unknown }).steps ?? [], currentActions: (view.currentStep as { actions?: unknown }).actions ?? [] };
}
