// GET /token on the registry listener: the Docker token endpoint (Basic credentials or none; `service`
// and repeated `scope` parameters) answering {token, access_token, expires_in, issued_at}. Also the
// registry's base URL as the client reached it, for the challenge's realm.
import type { Context } from 'koa';
import type { Logger } from 'pino';
import type { RegistryTokenIssuer } from '../auth/token-issuer.ts';
import { RegistryError } from '../protocol/errors.ts';
import { header, queryParam } from './context.ts';
import { renderError } from './errors.ts';

export const TOKEN_PATH = '/token';

export async function answerToken(ctx: Context, issuer: RegistryTokenIssuer, logger: Logger | undefined): Promise<void> {
  try {
    if (ctx.method !== 'GET') {
      ctx.set('Allow', 'GET');
      throw new RegistryError('UNSUPPORTED', `${ctx.method} is not supported on ${TOKEN_PATH}`, undefined, { status: 405 });
    }
    const raw = ctx.query.scope;
    const scopes = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    const issued = await issuer.issueToken({ authorization: header(ctx, 'authorization'), service: queryParam(ctx, 'service'), scopes });
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 200;
    ctx.body = { token: issued.token, access_token: issued.token, expires_in: issued.expiresIn, issued_at: issued.issuedAt };
  } catch (err) {
    renderError(ctx, err, logger, () => 'Basic realm="gantry-registry token"');
  }
}

/** `http://host:port` from the request's Host (validated: it ends up in a header), else the local address. */
export function requestBaseUrl(ctx: Context): string {
  const host = ctx.host;
  if (host && /^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host)) return `${ctx.protocol}://${host}`;
  const socket = ctx.req.socket;
  const address = socket.localAddress?.includes(':') ? `[${socket.localAddress}]` : socket.localAddress ?? '127.0.0.1';
  return `${ctx.protocol}://${address}:${socket.localPort ?? 80}`;
}
