// Registry bearer tokens: short-lived JWTs (HS256, see signing-key.ts) naming the caller (`sub`, and
// `kind`: user, robot, admin or anonymous) and the actions granted per repository (`access`, as the
// Docker token specification writes it), for one audience: the registry's service name.
import { randomBytes } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { RegistryError } from '../protocol/errors.ts';
import type { RegistryAction, RegistryIdentity } from './authorizer.ts';
import { sortActions, type AccessEntry } from './scopes.ts';

export const TOKEN_ISSUER = 'gantry-registry';
export const TOKEN_TTL_SECONDS = 300;

export interface TokenClaims {
  identity: RegistryIdentity;
  access: AccessEntry[];
}

export class RegistryTokens {
  constructor(
    private readonly key: () => Promise<Uint8Array>,
    private readonly service: string,
    private readonly clock: () => Date,
    private readonly ttlSeconds: number = TOKEN_TTL_SECONDS,
  ) {}

  async sign(identity: RegistryIdentity, access: readonly AccessEntry[]): Promise<{ token: string; issuedAt: Date; expiresIn: number }> {
    const issuedAt = this.clock();
    const iat = Math.floor(issuedAt.getTime() / 1000);
    const token = await new SignJWT({ kind: identity.kind, access: access.map((a) => ({ type: a.type, name: a.name, actions: [...a.actions] })) })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(TOKEN_ISSUER)
      .setSubject(identity.name ?? '')
      .setAudience(this.service)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(iat + this.ttlSeconds)
      .setJti(randomBytes(12).toString('base64url'))
      .sign(await this.key());
    return { token, issuedAt, expiresIn: this.ttlSeconds };
  }

  /** The identity a token names, with its grants; UNAUTHORIZED when the token is not one of ours, or no longer valid. */
  async verify(token: string): Promise<RegistryIdentity> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, await this.key(), {
        issuer: TOKEN_ISSUER,
        audience: this.service,
        algorithms: ['HS256'],
        currentDate: this.clock(),
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      const why = code === 'ERR_JWT_EXPIRED' ? 'the token has expired' : code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' ? 'the token is not for this registry' : 'the token is not valid';
      throw new RegistryError('UNAUTHORIZED', `${why}: ask the token endpoint for a new one`);
    }
    const kind = payload.kind;
    const sub = typeof payload.sub === 'string' ? payload.sub : '';
    if (kind !== 'user' && kind !== 'robot' && kind !== 'admin' && kind !== 'anonymous') throw new RegistryError('UNAUTHORIZED', 'the token is not valid');
    if ((kind === 'anonymous') !== (sub === '')) throw new RegistryError('UNAUTHORIZED', 'the token is not valid');
    const grants = Object.create(null) as Record<string, RegistryAction[]>;
    for (const entry of Array.isArray(payload.access) ? (payload.access as unknown[]) : []) {
      const e = entry as Partial<AccessEntry>;
      if (e?.type !== 'repository' || typeof e.name !== 'string' || !Array.isArray(e.actions)) continue;
      grants[e.name] = sortActions([...(grants[e.name] ?? []), ...e.actions]);
    }
    return { name: kind === 'anonymous' ? null : sub, kind, grants };
  }
}
