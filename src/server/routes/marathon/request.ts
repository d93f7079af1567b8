// What the /v2 routes read of a request the same way: flags as Marathon's JAX-RS @QueryParam booleans,
// repeated query values, app ids with slashes, and Marathon's "does not exist" messages.
import type { Context } from 'koa';
import { absoluteId, type AppView, type AppsService } from '../../../apps/index.ts';
import { Invalid, NotFound } from '../../../shared/errors.ts';

/** A boolean query parameter (`?force=true`); absent: `fallback`. Anything but true/false is refused. */
export function flag(ctx: Context, name: string, fallback = false): boolean {
  const value = lastOf(ctx.query[name]);
  if (value === undefined || value === '') return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new Invalid(`query parameter ${name} is true or false, not "${value}"`);
}

/** Every value of a query parameter given once or more (`?embed=a&embed=b`); comma-separated lists too when `commas`. */
export function values(ctx: Context, name: string, commas = false): string[] {
  const raw = ctx.query[name];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return commas ? list.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '') : list;
}

export function lastOf(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.at(-1) : value;
}

/** The app id a path names (`prod/web` → `/prod/web`), as Marathon's toAbsolutePath reads it. */
export function appIdOf(ctx: Context): string {
  return absoluteId(String(ctx.params.id ?? ''));
}

/** The request's JSON object body; Invalid when it is something else. */
export function objectBody(ctx: Context): Record<string, unknown> {
  const body = (ctx.request as { body?: unknown }).body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Invalid('send a JSON object with Content-Type: application/json');
  return body as Record<string, unknown>;
}

/** Marathon's 404 for an app (RestResource.unknownApp). */
export function unknownApp(id: string, version?: string): NotFound {
  return new NotFound(`App '${id}' does not exist${version !== undefined ? ` in version ${version}` : ''}`);
}

/** The app, or Marathon's 404. */
export function appView(apps: AppsService, id: string): AppView {
  try {
    return apps.getApp(id);
  } catch (err) {
    if (err instanceof NotFound) throw unknownApp(id);
    throw err;
  }
}

export function appExists(apps: AppsService, id: string): boolean {
  try {
    apps.getApp(id);
    return true;
  } catch (err) {
    if (err instanceof NotFound) return false;
    throw err;
  }
}

/** Sets Marathon's header naming the deployment a change started (RestResource.DeploymentHeader). */
export function deploymentHeader(ctx: Context, deploymentId: string): void {
  ctx.set('Marathon-Deployment-Id', deploymentId);
}
