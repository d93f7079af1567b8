// Who may do what in the registry. The protocol handlers ask this interface and nothing else; the
// policy behind it grows (users, robots, per-repository ACLs, the Docker token flow) without the
// handlers changing.

export type RegistryAction = 'pull' | 'push' | 'delete';

export const REGISTRY_ACTIONS: readonly RegistryAction[] = ['pull', 'push', 'delete'];

export interface RegistryIdentity {
  /** null for anonymous callers. */
  name: string | null;
  kind: 'anonymous' | 'user' | 'robot' | 'admin';
  /** The groups of a user or robot, when the authorizer knows them (ACL subjects `group:NAME`). */
  groups?: readonly string[];
  /**
   * For a caller holding a bearer token from the token endpoint: the actions the token grants, per
   * repository. Absent when the caller authenticated directly (Basic, platform token) or not at all.
   */
  grants?: Readonly<Record<string, readonly RegistryAction[]>>;
}

export const ANONYMOUS: RegistryIdentity = { name: null, kind: 'anonymous' };

export interface RegistryScope {
  repository: string;
  actions: readonly RegistryAction[];
}

export interface RegistryAuthorizer {
  /**
   * Who is calling, from the request's Authorization header (Basic or Bearer). No header → ANONYMOUS.
   * Credentials that are present but wrong throw a RegistryError UNAUTHORIZED (never fall back to
   * anonymous: a typo in a password must not silently pull public images as nobody).
   */
  authenticate(authorization: string | undefined): Promise<RegistryIdentity>;
  /** The subset of `actions` the identity may perform on the repository. */
  allowed(identity: RegistryIdentity, repository: string, actions: readonly RegistryAction[]): Promise<RegistryAction[]>;
  /**
   * The WWW-Authenticate header value of a 401 for the scope (or scopes: a mount also reads its source)
   * that was asked. `baseUrl` is the
   * registry's URL as the client reached it (`http://host:port`), for a token realm; optional so that
   * simple policies can ignore it.
   */
  challenge(scope?: RegistryScope | readonly RegistryScope[], baseUrl?: string): string;
}
