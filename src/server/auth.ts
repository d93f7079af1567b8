// Who is calling: admin tokens for the platform API, join tokens for agents joining the pool, and
// per-agent tokens for an agent's own calls. Tokens travel as `Authorization: Bearer TOKEN`.
import type { Context, Next } from 'koa';
import type { Store, TokenKind, TokenRecord } from '../store/index.ts';
import { Forbidden, Unauthorized } from '../shared/errors.ts';

export function bearerToken(ctx: Context): string | undefined {
  const header = ctx.get('authorization');
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (match) return match[1];
  // Basic with the token as the password (any user name), for tools that only speak Basic: curl -u,
  // Chronos clients.
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 && colon < decoded.length - 1 ? decoded.slice(colon + 1) : undefined;
}

async function identify(store: Store, ctx: Context, kinds: readonly TokenKind[]): Promise<TokenRecord> {
  const secret = bearerToken(ctx);
  if (!secret) throw new Unauthorized(`${kinds.map((k) => `${/^[aeiou]/.test(k) ? 'an' : 'a'} ${k}`).join(' or ')} token is required (Authorization: Bearer TOKEN)`);
  const token = await store.tokens.findBySecret(secret);
  if (!token) throw new Unauthorized('the token is not valid');
  if (!kinds.includes(token.kind)) throw new Forbidden(`a ${token.kind} token cannot do this; it needs a ${kinds.join(' or ')} token`);
  ctx.state.identity = token;
  return token;
}

const ADMIN_GUARD = Symbol('requires the admin token');

/** Platform API: an admin token. */
export function requireAdmin(store: Store) {
  const guard = async (ctx: Context, next: Next): Promise<void> => {
    await identify(store, ctx, ['admin']);
    await next();
  };
  return Object.assign(guard, { [ADMIN_GUARD]: true });
}

/** Whether this middleware is a requireAdmin guard: a route of a public router can still have one. */
export function isAdminGuard(middleware: unknown): boolean {
  return typeof middleware === 'function' && ADMIN_GUARD in middleware;
}

/** Agent registration: a join token. */
export function requireJoinToken(store: Store) {
  return async (ctx: Context, next: Next): Promise<void> => {
    await identify(store, ctx, ['join']);
    await next();
  };
}

/** An agent's own calls: the token issued to that agent, for that agent's id only. */
export function requireAgent(store: Store) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const token = await identify(store, ctx, ['agent']);
    const agentId = (ctx.params as Record<string, string> | undefined)?.agentId;
    if (token.agentId !== agentId) throw new Forbidden(`this token belongs to agent ${token.agentId}, not ${agentId}`);
    await next();
  };
}
