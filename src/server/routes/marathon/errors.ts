// Errors on Marathon's API (/v2/...) in Marathon's shapes (api/MarathonExceptionMapper.scala), where the
// rest of the platform API answers the house `{error, message}` (server/errors.ts):
//   422 {message: "Object is not valid", details: [{path, errors}]}   an invalid app definition
//   409 {message, deployments: [{id}]}                                 an app locked by a deployment
//   400 {message: "Invalid JSON", details}                             a body that is not JSON
//   4xx {message}                                                      anything else refused
// Mounted on the app ahead of the body parser, so that a body that is not JSON is answered this way too.
// The admin guard's 401 and 403 pass through unchanged: they are the same on every route. Unexpected
// failures go on to the house handler, which logs them; its body carries `message` too.
import type { Context, Next } from 'koa';
import { AppDefinitionInvalid } from '../../../apps/index.ts';
import { GantryError } from '../../../shared/errors.ts';

interface HttpishError extends Error {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  type?: string;
}

/** Whether a path is Marathon's API (`/v2/...`; the OCI registry's /v2 is on its own listener). */
export function isMarathonPath(path: string): boolean {
  return path === '/v2' || path.startsWith('/v2/');
}

export function marathonErrors() {
  return async function marathonErrorShapes(ctx: Context, next: Next): Promise<void> {
    if (!isMarathonPath(ctx.path)) return next();
    try {
      await next();
    } catch (caught) {
      const body = marathonErrorBody(caught);
      if (body === null) throw caught;
      ctx.status = body.status;
      ctx.body = body.body;
    }
  };
}

/** Marathon's status and body for an error, or null for what the house handler answers (the guard's, 5xx). */
export function marathonErrorBody(caught: unknown): { status: number; body: Record<string, unknown> } | null {
  if (caught instanceof AppDefinitionInvalid) return { status: 422, body: caught.marathonBody() };
  if (caught instanceof GantryError) {
    if (caught.status === 401 || caught.status === 403) return null;
    const deployments = (caught.details as { deployments?: unknown } | undefined)?.deployments;
    return { status: caught.status, body: { message: caught.message, ...(caught.status === 409 && Array.isArray(deployments) ? { deployments } : {}) } };
  }
  const err = caught as HttpishError;
  const status = err.status ?? err.statusCode ?? 500;
  if (status >= 500 || err.expose === false) return null;
  // co-body (under @koa/bodyparser) throws the SyntaxError of JSON.parse with status 400; raw-body names its type.
  if (err instanceof SyntaxError || err.type === 'entity.parse.failed') return { status: 400, body: { message: 'Invalid JSON', details: err.message } };
  return { status, body: { message: err.message } };
}
