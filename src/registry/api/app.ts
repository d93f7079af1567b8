// createRegistryApp: the OCI Distribution Specification v1.1 as a Koa app for the registry's own
// listener. Each request: route (parseV2Path) → caller (authorizer.authenticate) → right (pull / push /
// delete on the repository) → handler. Every error is answered in the spec's JSON form. GET /token is
// the Docker token endpoint, when a token issuer is given.
import Koa from 'koa';
import type { Context } from 'koa';
import type { RegistryAction, RegistryIdentity, RegistryScope } from '../auth/authorizer.ts';
import { RegistryError } from '../protocol/errors.ts';
import { isName, parseV2Path, type V2Route } from '../protocol/names.ts';
import { requireAction, requiredAction, scopeActions } from './access.ts';
import { hasBody, header, type RegistryAppOptions, type RegistryDeps } from './context.ts';
import { renderError } from './errors.ts';
import { pickHandler, routeRepository } from './router.ts';
import { answerToken, requestBaseUrl, TOKEN_PATH } from './token.ts';

export function createRegistryApp(options: RegistryAppOptions): Koa {
  const deps: RegistryDeps = {
    blobs: options.blobs,
    metadata: options.metadata,
    authorizer: options.authorizer,
    reserves: options.reserves,
    clock: options.clock ?? (() => new Date()),
    logger: options.logger,
    manifestBytes: options.manifestBytes,
    quotas: options.quotas,
  };
  const app = new Koa();
  app.proxy = false;
  // Errors are answered and logged by the middleware below; Koa's default logs them again on stderr.
  app.silent = true;

  app.use(async (ctx) => {
    ctx.set('Docker-Distribution-API-Version', 'registry/2.0');
    if (ctx.path === TOKEN_PATH && options.tokenIssuer) {
      await answerToken(ctx, options.tokenIssuer, deps.logger);
      return;
    }
    let route: V2Route | null = null;
    let action: RegistryAction | null = null;
    try {
      route = parseV2Path(ctx.path);
      if (route === null) throw new RegistryError('UNSUPPORTED', `no registry endpoint ${ctx.path.slice(0, 200)}`, undefined, { status: 404 });
      action = requiredAction(route, ctx.method);
      const handler = pickHandler(route, ctx.method, (allow) => ctx.set('Allow', allow));
      const identity = await authenticate(ctx, deps);
      const repository = routeRepository(route);
      if (repository !== null && action !== null) await requireAction(deps.authorizer, identity, repository, action);
      await handler({ ctx, deps, identity });
    } catch (err) {
      const repository = route ? routeRepository(route) : null;
      const scope = repository !== null && action !== null ? challengeScopes(ctx, route!, repository, action) : undefined;
      renderError(ctx, err, deps.logger, () => deps.authorizer.challenge(scope, requestBaseUrl(ctx)));
      // A body left unread (refused before or while reading it) must not be read as the next request on
      // this connection, nor be drained at the client's pace: close the connection after the answer.
      if (hasBody(ctx) && !ctx.req.complete) ctx.set('Connection', 'close');
    }
  });
  return app;
}

async function authenticate(ctx: Context, deps: RegistryDeps): Promise<RegistryIdentity> {
  return deps.authorizer.authenticate(header(ctx, 'authorization'));
}

/**
 * The scopes a 401 asks the client to get a token for: the route's, plus pull on the source of a
 * cross-repository mount, so that a token-following client (docker, the conformance suite) can mount
 * instead of uploading again.
 */
function challengeScopes(ctx: Context, route: V2Route, repository: string, action: RegistryAction): RegistryScope[] {
  const scopes: RegistryScope[] = [{ repository, actions: scopeActions(action) }];
  const from = route.kind === 'blobUpload' && ctx.method === 'POST' ? ctx.query.from : undefined;
  if (typeof from === 'string' && from !== repository && isName(from) && typeof ctx.query.mount === 'string') scopes.push({ repository: from, actions: ['pull'] });
  return scopes;
}
