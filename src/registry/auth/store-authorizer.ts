// The registry's access policy over the store: registry users and robots (Basic), the platform's admin
// tokens (Basic password or Bearer: admin may do everything), the Docker token flow (a 401 names the
// token endpoint; its JWTs come back as Bearer), and per-repository ACL rules (acl.ts).
//
// What a caller may do = what the ACL gives it now ∩ (for a bearer JWT) what its token granted.
//
// Every request is authenticated and checked against the ACL, without a store query in the common
// case: the ACL rules, the accounts behind bearer tokens and verified Basic passwords are kept in
// memory, each forgotten as soon as a user or rule is written through RegistryUsers / RegistryAcl in
// this process (generations.ts), and otherwise trusted for 10 s at most (`basicCacheMs`, the classes'
// `cacheMs`), the bound for writes from elsewhere. Admin tokens are checked with the platform's store
// every time (revoking one takes effect at once).
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { RegistryError } from '../protocol/errors.ts';
import { evaluateAcl } from './acl.ts';
import { RegistryAcl } from './acl-store.ts';
import { ANONYMOUS, type RegistryAction, type RegistryAuthorizer, type RegistryIdentity, type RegistryScope } from './authorizer.ts';
import { isEmptyBasic, parseAuthorization } from './credentials.ts';
import { formatScope, intersect, parseScopes, type AccessEntry } from './scopes.ts';
import { loadSigningKey } from './signing-key.ts';
import type { IssuedToken, RegistryTokenIssuer, TokenRequest } from './token-issuer.ts';
import { RegistryTokens, TOKEN_TTL_SECONDS } from './tokens.ts';
import { RegistryUsers } from './users.ts';

/** Looks a secret up among the platform's admin tokens (the store hashes and compares). */
export type AdminTokenCheck = (secret: string) => Promise<boolean>;

export const DEFAULT_SERVICE = 'gantry-registry';

export interface StoreAuthorizerOptions {
  knex: Knex;
  isAdminToken: AdminTokenCheck;
  /** The token audience and the challenge's `service` (default gantry-registry). */
  service?: string;
  /** The registry's URL as clients see it (behind a proxy); otherwise the realm follows the request's Host. */
  externalUrl?: string;
  clock?: () => Date;
  tokenTtlSeconds?: number;
  /**
   * How long a verified Basic user password is remembered (by a hash of the credentials), so that
   * clients sending Basic on every request don't pay a bcrypt comparison each time. Default 10 s; any
   * write to the users (a user removed, a password changed) forgets every remembered password at once.
   */
  basicCacheMs?: number;
  /** How long the ACL rules and the accounts behind tokens are trusted without a write (default 10 s). */
  accessCacheMs?: number;
}

export class StoreAuthorizer implements RegistryAuthorizer, RegistryTokenIssuer {
  readonly users: RegistryUsers;
  readonly acl: RegistryAcl;
  readonly service: string;
  private readonly tokens: RegistryTokens;
  private readonly isAdminToken: AdminTokenCheck;
  private readonly clock: () => Date;
  private readonly externalUrl: string | undefined;
  private readonly basicCacheMs: number;
  private readonly basicCache = new Map<string, { identity: RegistryIdentity; until: number; generation: number }>();
  private key: Promise<Uint8Array> | undefined;

  constructor(options: StoreAuthorizerOptions) {
    this.clock = options.clock ?? (() => new Date());
    const cache = options.accessCacheMs !== undefined ? { cacheMs: options.accessCacheMs } : {};
    this.users = new RegistryUsers(options.knex, this.clock, cache);
    this.acl = new RegistryAcl(options.knex, this.clock, cache);
    this.service = options.service ?? DEFAULT_SERVICE;
    this.isAdminToken = options.isAdminToken;
    this.externalUrl = options.externalUrl?.replace(/\/+$/, '');
    this.basicCacheMs = options.basicCacheMs ?? 10_000;
    const knex = options.knex;
    const key = (): Promise<Uint8Array> => {
      this.key ??= loadSigningKey(knex, this.clock).catch((err: unknown) => {
        this.key = undefined;
        throw err;
      });
      return this.key;
    };
    this.tokens = new RegistryTokens(key, this.service, this.clock, options.tokenTtlSeconds ?? TOKEN_TTL_SECONDS);
  }

  async authenticate(authorization: string | undefined): Promise<RegistryIdentity> {
    if (!authorization) return ANONYMOUS;
    const credentials = parseAuthorization(authorization);
    if (isEmptyBasic(credentials)) return ANONYMOUS;
    if (credentials.scheme === 'bearer') {
      // A JWT from our token endpoint, or (for simple clients) a platform admin token as is.
      if (credentials.token.split('.').length === 3) return this.tokens.verify(credentials.token);
      if (credentials.token !== '' && (await this.isAdminToken(credentials.token))) return { name: 'admin', kind: 'admin' };
      throw new RegistryError('UNAUTHORIZED', 'the bearer token is not valid');
    }
    return this.basic(credentials.name, credentials.password);
  }

  async allowed(identity: RegistryIdentity, repository: string, actions: readonly RegistryAction[]): Promise<RegistryAction[]> {
    let permitted = identity.kind === 'admin' ? [...actions] : intersect(actions, await this.aclActions(identity, repository));
    if (identity.grants !== undefined) permitted = intersect(permitted, identity.grants[repository] ?? []);
    return permitted;
  }

  challenge(scope?: RegistryScope | readonly RegistryScope[], baseUrl?: string): string {
    const realm = `${this.externalUrl ?? baseUrl ?? 'http://127.0.0.1:5000'}/token`;
    const base = `Bearer realm="${realm}",service="${this.service}"`;
    const scopes: readonly RegistryScope[] = scope === undefined ? [] : 'repository' in scope ? [scope] : scope;
    // Several scopes go in one parameter, space-separated, as distribution writes them.
    return scopes.length > 0 ? `${base},scope="${scopes.map(formatScope).join(' ')}"` : base;
  }

  async issueToken(request: TokenRequest): Promise<IssuedToken> {
    const identity = await this.authenticate(request.authorization);
    if (identity.grants !== undefined) throw new RegistryError('UNAUTHORIZED', 'ask for a token with Basic credentials, not with a token');
    const access: AccessEntry[] = [];
    for (const scope of parseScopes(request.scopes)) {
      const actions = await this.allowed(identity, scope.repository, scope.actions);
      if (actions.length > 0) access.push({ type: 'repository', name: scope.repository, actions });
    }
    const signed = await this.tokens.sign(identity, access);
    return { token: signed.token, expiresIn: signed.expiresIn, issuedAt: signed.issuedAt.toISOString() };
  }

  /** Basic: a platform admin token (any user name, `admin` by convention), or a registry user's or robot's password. */
  private async basic(name: string, password: string): Promise<RegistryIdentity> {
    if (password === '') throw new RegistryError('UNAUTHORIZED', 'a password is required');
    const cacheKey = createHash('sha256').update(name).update('\0').update(password).digest('base64');
    const now = this.clock().getTime();
    const generation = this.users.generation.value;
    const cached = this.basicCache.get(cacheKey);
    if (cached && cached.generation === generation && cached.until > now && now >= cached.until - this.basicCacheMs) return cached.identity;
    if (await this.isAdminToken(password)) return { name: name || 'admin', kind: 'admin' };
    const user = name === '' || name === 'admin' ? null : await this.users.verify(name, password);
    if (!user) throw new RegistryError('UNAUTHORIZED', 'wrong user name or password');
    const identity: RegistryIdentity = { name: user.name, kind: user.kind, groups: user.groups };
    // Filed under the generation read before the password was checked: a write meanwhile voids it.
    if (this.basicCacheMs > 0 && this.users.generation.value === generation) {
      if (this.basicCache.size > 1000) this.basicCache.clear();
      this.basicCache.set(cacheKey, { identity, until: now + this.basicCacheMs, generation });
    }
    return identity;
  }

  /** What the ACL gives the caller on the repository now (a token's account may have been removed since). */
  private async aclActions(identity: RegistryIdentity, repository: string): Promise<RegistryAction[]> {
    let groups: readonly string[] = [];
    if (identity.kind === 'user' || identity.kind === 'robot') {
      if (identity.name === null) return [];
      if (identity.groups !== undefined) groups = identity.groups;
      else {
        const user = await this.users.find(identity.name);
        if (!user) return [];
        groups = user.groups;
      }
    }
    const caller = identity.kind === 'anonymous' ? { name: null, groups: [] } : { name: identity.name, groups };
    return evaluateAcl(await this.acl.rules(), caller, repository);
  }
}
