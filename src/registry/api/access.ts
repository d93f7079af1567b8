// Authorization of one request: which action the route needs, and the 401 / 403 answers. An anonymous
// caller without the right is asked to authenticate (401 + challenge); an authenticated one is refused
// (403 DENIED).
import type { RegistryAction, RegistryAuthorizer, RegistryIdentity } from '../auth/authorizer.ts';
import { RegistryError } from '../protocol/errors.ts';
import type { V2Route } from '../protocol/names.ts';

/** The action a method needs on the route's repository; null for routes without one (base, catalog). */
export function requiredAction(route: V2Route, method: string): RegistryAction | null {
  if (route.kind === 'base' || route.kind === 'catalog') return null;
  switch (method) {
    case 'GET':
    case 'HEAD':
      return 'pull';
    case 'POST':
    case 'PUT':
    case 'PATCH':
      return 'push';
    case 'DELETE':
      // Cancelling one's own upload session removes nothing stored: it is part of pushing.
      return route.kind === 'blobUploadSession' ? 'push' : 'delete';
    default:
      return null;
  }
}

/** The actions a client should ask a token for, as the challenge's scope: a push also reads. */
export function scopeActions(action: RegistryAction): RegistryAction[] {
  return action === 'push' ? ['pull', 'push'] : [action];
}

export async function isAllowed(authorizer: RegistryAuthorizer, identity: RegistryIdentity, repository: string, action: RegistryAction): Promise<boolean> {
  return (await authorizer.allowed(identity, repository, [action])).includes(action);
}

/** Throws UNAUTHORIZED (anonymous) or DENIED (authenticated) unless the identity may do `action`. */
export async function requireAction(authorizer: RegistryAuthorizer, identity: RegistryIdentity, repository: string, action: RegistryAction): Promise<void> {
  if (await isAllowed(authorizer, identity, repository, action)) return;
  const detail = { repository, action };
  if (identity.kind === 'anonymous') {
    throw new RegistryError('UNAUTHORIZED', `authentication required to ${action} ${repository}`, [{ Type: 'repository', Name: repository, Action: action }]);
  }
  throw new RegistryError('DENIED', `${identity.name ?? 'the caller'} may not ${action} ${repository}`, detail);
}
