// Maps every error to an HTTP status and a JSON body `{error, message}` in one place.
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { GantryError } from '../shared/errors.ts';

interface HttpishError extends Error {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  type?: string;
}

const CODES: Record<number, string> = {
  400: 'invalid',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'too_large',
  415: 'unsupported_media_type',
  422: 'unsatisfiable',
};

export function errorMiddleware(logger: Logger) {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.status = 404;
        ctx.body = { error: 'not_found', message: `no route ${ctx.method} ${ctx.path}` };
      }
    } catch (caught) {
      const err = caught as HttpishError;
      if (err instanceof GantryError) {
        ctx.status = err.status;
        ctx.body = { error: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) };
        return;
      }
      const status = err.status ?? err.statusCode ?? 500;
      if (status < 500 && err.expose !== false) {
        ctx.status = status;
        const message = err.type === 'entity.parse.failed' ? `the body is not valid JSON: ${err.message}` : err.message;
        ctx.body = { error: CODES[status] ?? 'invalid', message };
        return;
      }
      logger.error({ err, method: ctx.method, path: ctx.path }, 'request failed');
      ctx.status = 500;
      ctx.body = { error: 'internal', message: 'internal error; see the server log' };
    }
  };
}
