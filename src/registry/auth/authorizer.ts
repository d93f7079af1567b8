// Who may do what in the registry. The protocol handlers ask this interface and nothing else; the
// policy behind it grows (users, robots, per-repository ACLs, the Docker token flow) without the
// handlers changing.

export type RegistryAction = 'pull' | 'push' | 'delete';

export interface RegistryIdentity {
  /** null for anonymous callers. */
  name: string | null;
  kind: 'anonymous' | 'user' | 'robot' | 'admin';
}

export const ANONYMOUS: RegistryIdentity = { name: null, kind: 'anonymous' };

export interface RegistryAuthorizer {
  /**
   * Who is calling, from the request's Authorization header (Basic or Bearer). No header → ANONYMOUS.
   * Credentials that are present but wrong throw a RegistryError UNAUTHORIZED (never fall back to
   * anonymous: a typo in a password must not silently pull public images as nobody).
   */
  authenticate(authorization: string | undefined): Promise<RegistryIdentity>;
  /** The subset of `actions` the identity may perform on the repository. */
  allowed(identity: RegistryIdentity, repository: string, actions: readonly RegistryAction[]): Promise<RegistryAction[]>;
  /** The WWW-Authenticate header value of a 401 for the scope that was asked. */
  challenge(scope?: { repository: string; actions: readonly RegistryAction[] }): string;
}
