// Marathon's /v2/groups over the apps domain: a group is the apps under an id (`/prod` holds
// `/prod/web` and `/prod/db/primary`), shown as Marathon's tree; PUT or POST deploys a tree in its
// dependencies' order (AppsService.putGroup: new and changed apps written, apps under the group that the
// tree no longer has removed, one deployment); DELETE removes every app under it, dependents first.
// Gantry keeps no group record of its own: a group's `dependencies` apply to its apps as they are
// deployed, and an empty group does not exist.
import type Router from '@koa/router';
import type { AppsService, AppView } from '../../../apps/index.ts';
import { absoluteId } from '../../../apps/index.ts';
import { NotFound } from '../../../shared/errors.ts';
import { deploymentResult } from './apps.ts';
import { embedsOf, marathonApp, type Json } from './json.ts';
import { flag, objectBody, values } from './request.ts';

export function marathonGroupRoutes(router: Router, apps: AppsService): void {
  const show = (id: string, embed: string[]): Json => {
    const all = apps.listApps({ idPrefix: id === '/' ? '/' : `${id}/` });
    if (all.length === 0 && id !== '/') throw new NotFound(`Group '${id}' does not exist`);
    return groupTree(id, all, embedsOf(embed.map((e) => e.replace(/^group\./, '')), ['counts', 'deployments']));
  };
  router.get('/v2/groups', (ctx) => {
    ctx.body = show('/', values(ctx, 'embed'));
  });
  router.get('/v2/groups/*id', (ctx) => {
    ctx.body = show(absoluteId(String(ctx.params.id ?? '')), values(ctx, 'embed'));
  });
  const put = async (ctx: Parameters<Parameters<Router['put']>[1]>[0], id: string | undefined): Promise<void> => {
    const body = objectBody(ctx);
    const created = id === undefined || apps.listApps({ idPrefix: `${id}/` }).length === 0;
    const result = await apps.putGroup({ ...body, ...(id !== undefined ? { id } : {}) }, { force: flag(ctx, 'force') });
    deploymentResult(ctx, result, created ? 201 : 200);
  };
  router.post('/v2/groups', (ctx) => put(ctx, undefined));
  router.put('/v2/groups/*id', (ctx) => put(ctx, absoluteId(String(ctx.params.id ?? ''))));
  router.delete('/v2/groups/*id', async (ctx) => {
    deploymentResult(ctx, await apps.deleteGroup(absoluteId(String(ctx.params.id ?? '')), { force: flag(ctx, 'force') }));
  });
}

/** The group `id` as Marathon's Group JSON: its own apps, then a group for each next path segment. */
function groupTree(id: string, all: readonly AppView[], embeds: ReturnType<typeof embedsOf>): Json {
  const prefix = id === '/' ? '/' : `${id}/`;
  const own = all.filter((view) => !view.definition.id.slice(prefix.length).includes('/'));
  const below = [...new Set(all.filter((view) => !own.includes(view)).map((view) => `${prefix}${view.definition.id.slice(prefix.length).split('/')[0]}`))].sort();
  const versions = all.map((view) => view.version).sort();
  return {
    id,
    apps: own.map((view) => marathonApp(view, embeds)),
    groups: below.map((sub) => groupTree(sub, all.filter((view) => view.definition.id.startsWith(`${sub}/`)), embeds)),
    pods: [],
    dependencies: [],
    version: versions.at(-1) ?? new Date(0).toISOString(),
  };
}
